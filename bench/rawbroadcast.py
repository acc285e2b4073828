"""The floor under live fan-out: broadcaster as shipped (its own Redis backend), publishing
and receiving in one process through the same Valkey, with no database, no GraphQL and no
sockets to clients (`python -m bench.rawbroadcast REDIS_URL SUBSCRIBERS RATE SECONDS`).

Publishes RATE messages a second for SECONDS on one channel that SUBSCRIBERS subscribers
follow, and prints JSON: publish→receive latency over every receipt (p50, p99, max), and
receipts per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

from broadcaster import Broadcast

from bench.stats import percentiles

CHANNEL = "bench:raw-broadcast"


async def main(url: str, subscribers: int, rate: float, seconds: float) -> dict[str, Any]:
    broadcast = Broadcast(url)
    await broadcast.connect()
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = asyncio.Barrier(subscribers + 1)
    count = int(rate * seconds)
    everything = asyncio.Event()

    async def follow() -> None:
        async with broadcast.subscribe(CHANNEL) as subscriber:
            await ready.wait()
            async for event in subscriber:  # type: ignore[union-attr]
                latencies.append(time.monotonic() - sent[event.message])
                if len(latencies) == count * subscribers:
                    everything.set()

    tasks = [asyncio.create_task(follow()) for _ in range(subscribers)]
    await ready.wait()
    await asyncio.sleep(0.2)  # the backend's SUBSCRIBE has reached the server
    start = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        sent[str(n)] = time.monotonic()
        await broadcast.publish(CHANNEL, str(n))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everything.wait(), 10)
    elapsed = time.monotonic() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await broadcast.disconnect()
    return {
        "subscribers": subscribers,
        "messages": count,
        "receipts": len(latencies),
        "missing": count * subscribers - len(latencies),
        "receipts_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": percentiles(latencies),
    }


if __name__ == "__main__":
    redis_url, n, per_second, duration = sys.argv[1:5]
    figures = asyncio.run(main(redis_url, int(n), float(per_second), float(duration)))
    print(json.dumps(figures))
