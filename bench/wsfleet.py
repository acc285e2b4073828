"""A fleet of WebSocket subscribers in a process of its own, for the fan-out benchmark
(`python -m bench.wsfleet URL TOKEN INCIDENTS DASHBOARDS OUT`).

It opens INCIDENTS `incidentLogged` and DASHBOARDS `dashboard` subscriptions of the whole
school (graphql-transport-ws), prints `ready` once every one is open (a dashboard's first
snapshot has arrived), then notes when each message arrives (time.monotonic(), which is
the same clock in every process of the machine) until a line arrives on stdin. Then it
closes them all and writes what it saw to OUT as JSON:
  {"incidents": {incident_id: [monotonic seconds, one per subscriber that got it]},
   "dashboards": [[[monotonic seconds, incidents today], ...] per subscriber],
   "errors": [...], "connections_lost": n, "duplicates": n}
(a subscriber's second copy of an incident counts as a duplicate, not as a receipt)
Messages are parsed as little as the figures need: this process shares the machine's two
cores with the server it measures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import websockets

PROTOCOL = "graphql-transport-ws"
INCIDENTS = "subscription { incidentLogged { id incident { id category student { id name } } } }"
DASHBOARD = """subscription { dashboard { eventId incidentsToday { positive negative neutral }
  housePointsToday attendanceRateToday studentsByTier { tier count } openInterventions } }"""
OPEN_AT_ONCE = 50  # connections being opened concurrently


class Fleet:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.incidents: dict[str, list[float]] = defaultdict(list)
        self.dashboards: list[list[tuple[float, int]]] = []
        self.errors: list[Any] = []
        self.lost = 0
        self.duplicates = 0
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def _open(self, query: str) -> Any:
        async with self._gate:
            ws = await websockets.connect(
                self.url, subprotocols=[PROTOCOL], max_queue=None, open_timeout=60
            )  # type: ignore[list-item]
            init = {"Authorization": f"Bearer {self.token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            ack = json.loads(await ws.recv())
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"no connection_ack: {ack}")
            payload = {"query": query, "variables": {}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            self.sockets.append(ws)
            return ws

    async def incident_subscriber(self) -> None:
        ws = await self._open(INCIDENTS)
        self.tasks.append(asyncio.create_task(self._incidents(ws)))

    async def _incidents(self, ws: Any) -> None:
        seen, mine = self.incidents, set()
        try:
            async for raw in ws:
                at = time.monotonic()
                message = json.loads(raw)
                if message.get("type") != "next" or message["payload"].get("errors"):
                    self.errors.append(message)
                    continue
                incident = message["payload"]["data"]["incidentLogged"]["incident"]["id"]
                if incident in mine:  # this subscriber got it before
                    self.duplicates += 1
                    continue
                mine.add(incident)
                seen[incident].append(at)
        except websockets.ConnectionClosedError:
            self.lost += 1

    async def dashboard_subscriber(self) -> None:
        ws = await self._open(DASHBOARD)
        snapshots: list[tuple[float, int]] = []
        self.dashboards.append(snapshots)
        first = asyncio.get_running_loop().create_future()
        self.tasks.append(asyncio.create_task(self._dashboard(ws, snapshots, first)))
        await first

    async def _dashboard(
        self, ws: Any, snapshots: list[tuple[float, int]], first: asyncio.Future[None]
    ) -> None:
        try:
            async for raw in ws:
                at = time.monotonic()
                message = json.loads(raw)
                if message.get("type") != "next" or message["payload"].get("errors"):
                    self.errors.append(message)
                else:
                    today = message["payload"]["data"]["dashboard"]["incidentsToday"]
                    snapshots.append((at, sum(today.values())))
                if not first.done():
                    first.set_result(None)
        except websockets.ConnectionClosedError:
            self.lost += 1
            if not first.done():
                first.set_exception(RuntimeError("dashboard connection lost"))

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def main(url: str, token: str, incidents: int, dashboards: int, out: str) -> None:
    fleet = Fleet(url, token)
    await asyncio.gather(
        *(fleet.incident_subscriber() for _ in range(incidents)),
        *(fleet.dashboard_subscriber() for _ in range(dashboards)),
    )
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await fleet.close()
    seen = {
        "incidents": fleet.incidents,
        "dashboards": fleet.dashboards,
        "errors": fleet.errors[:20],
        "error_count": len(fleet.errors),
        "connections_lost": fleet.lost,
        "duplicates": fleet.duplicates,
    }
    await asyncio.to_thread(Path(out).write_text, json.dumps(seen))


if __name__ == "__main__":
    url, token, n_incidents, n_dashboards, out = sys.argv[1:6]
    asyncio.run(main(url, token, int(n_incidents), int(n_dashboards), out))
