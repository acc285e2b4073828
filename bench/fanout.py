"""Live fan-out (`python -m bench.fanout`, and part of `make bench`): prints JSON.

One API process (`fan`) holds the subscribers: FANOUT_INCIDENTS (1,000) `incidentLogged`
and FANOUT_DASHBOARDS (200) `dashboard` subscriptions of the demo school, opened by
WebSocket fleets in processes of their own (bench.wsfleet). logIncident mutations stream in
at each of FANOUT_RATES a second (2 and 10) for FANOUT_SECONDS, sent to a second API
process (`writer`, the same image on the same Postgres and Valkey, as a replica behind a
load balancer would be), so that what `fan` does (its SQL statements, its CPU, its
memory) is the fan-out alone.

Figures, for a small phase (10 + 2 subscribers) and the full one:
- latency of each receipt: from the mutation's request (`request_to_receive_ms`) and from
  its answer (`ack_to_receive_ms`; it can be below zero, as the event is published before
  the answer is written), p50/p99/max over every subscriber's receipt;
- the dashboards' lag: from a mutation's answer to the first snapshot that counts it
  (coalesced to LIVE_COALESCE_SECONDS by design);
- receipts per second, missing receipts, errors;
- SQL statements per event on `fan` (schoolgraph_db_statements_total): the same for 12
  subscribers and for 1,200 when what subscribers share is computed once;
- `fan`'s RSS: idle, with the subscribers connected, the peak, after they leave.
Every subscriber asks the same document with the same role and scope: the case fan-out is
built for (one execution and one encoding per event for all of them); subscribers asking
different things share per (document, variables, role, org).
Beside them, from the same run: broadcaster as shipped publishing to 1 and to
FANOUT_INCIDENTS subscribers in one process through the same Valkey (bench.rawbroadcast),
the floor under any fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.graphql.relay import to_global_id
from bench.demo import Demo, Server, api_server, demo_school
from bench.stats import percentiles

INCIDENTS = int(os.environ.get("FANOUT_INCIDENTS", "1000"))
DASHBOARDS = int(os.environ.get("FANOUT_DASHBOARDS", "200"))
# Mutations a second: a rate the fan-out keeps up with, and one near its capacity here.
RATES = [float(r) for r in os.environ.get("FANOUT_RATES", "2,10").split(",")]
SECONDS = float(os.environ.get("FANOUT_SECONDS", "10"))
FLEETS = 2  # subscriber processes, one a core

LOG = """mutation Log($input: LogIncidentInput!) { logIncident(input: $input) {
  incident { id } errors { code message } } }"""
_METRIC = re.compile(r"^(\w+)(\{[^}]*\})? ([0-9.e+-]+)$")


async def metric(http: httpx.AsyncClient, url: str, name: str, labels: str = "") -> float:
    """The sum of `name`'s samples (those whose labels contain `labels`) on `url`'s /metrics."""
    total = 0.0
    for line in (await http.get(f"{url}/metrics")).text.splitlines():
        found = _METRIC.match(line)
        if found and found[1] == name and labels in (found[2] or ""):
            total += float(found[3])
    return total


def rss_mib(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its peak so far (VmHWM), in MiB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = round(int(value.split()[0]) / 1024, 1)
    return {"now": figures["VmRSS"], "peak": figures["VmHWM"]}


class Fleet:
    """A bench.wsfleet process."""

    def __init__(self, url: str, token: str, incidents: int, dashboards: int) -> None:
        self.args = [url, token, str(incidents), str(dashboards)]
        self.out = Path(tempfile.mkstemp(prefix="wsfleet-", suffix=".json")[1])
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.wsfleet",
            *self.args,
            str(self.out),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 300)
        if line.strip() != b"ready":
            raise RuntimeError(f"a subscriber fleet failed to start: {line!r}")

    async def finish(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        await asyncio.wait_for(self.process.wait(), 120)
        seen: dict[str, Any] = json.loads(self.out.read_text())
        self.out.unlink()
        return seen


async def _stream(
    http: httpx.AsyncClient, writer: Server, demo: Demo, students: list[str], rate: float
) -> list[tuple[str, float, float]]:
    """logIncident at `rate` a second for SECONDS: (incident id, sent, answered) each."""
    sent: list[tuple[str, float, float]] = []
    count = int(rate * SECONDS)
    start = time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        variables = {
            "input": {
                "studentId": students[n % len(students)],
                "kind": "NEGATIVE",
                "category": "fanout",
            }
        }
        t0 = time.monotonic()
        response = await http.post(
            f"{writer.url}/graphql",
            json={"query": LOG, "variables": variables},
            headers={"Authorization": f"Bearer {demo.token}"},
        )
        t1 = time.monotonic()
        answer = response.json()["data"]["logIncident"]
        assert not answer["errors"], answer
        sent.append((answer["incident"]["id"], t0, t1))
    return sent


async def phase(
    demo: Demo,
    fan: Server,
    writer: Server,
    students: list[str],
    incidents: int,
    dashboards: int,
    rate: float,
) -> dict[str, Any]:
    assert fan.process is not None
    fleets = max(1, min(FLEETS, incidents // 100))
    ws_url = fan.url.replace("http://", "ws://") + "/graphql"
    parts = [
        Fleet(
            ws_url,
            demo.token,
            incidents // fleets + (i < incidents % fleets),
            dashboards // fleets + (i < dashboards % fleets),
        )
        for i in range(fleets)
    ]
    async with httpx.AsyncClient(timeout=60) as http:
        opened = time.monotonic()
        await asyncio.gather(*(f.start() for f in parts))
        for _ in range(600):  # every subscription is running on the server
            active = await metric(http, fan.url, "schoolgraph_subscriptions_active")
            if active >= incidents + dashboards:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"only {active:.0f} of {incidents + dashboards} subscriptions ran")
        open_seconds = time.monotonic() - opened
        connected = rss_mib(fan.process.pid)
        statements = await metric(http, fan.url, "schoolgraph_db_statements_total")
        delivered = await metric(
            http, fan.url, "schoolgraph_events_delivered_total", 'name="incidentLogged"'
        )
        peak = [connected["now"]]

        async def sample() -> None:
            assert fan.process is not None
            while True:
                peak.append(rss_mib(fan.process.pid)["now"])
                await asyncio.sleep(0.25)

        sampler = asyncio.create_task(sample())
        sent = await _stream(http, writer, demo, students, rate)
        expected = len(sent) * incidents
        for _ in range(300):  # until every subscriber was handed every event (or 30 s)
            now = await metric(
                http, fan.url, "schoolgraph_events_delivered_total", 'name="incidentLogged"'
            )
            if now - delivered >= expected:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(
            1 + 2 * max(0.25, float(os.environ.get("LIVE_COALESCE_SECONDS", "0.25")))
        )
        statements = await metric(http, fan.url, "schoolgraph_db_statements_total") - statements
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        seen = [await f.finish() for f in parts]
        await asyncio.sleep(1)
        after = rss_mib(fan.process.pid)
    return _figures(sent, seen, incidents, dashboards, rate) | {
        "subscribe_seconds": round(open_seconds, 2),
        "sql_statements_per_event": round(statements / len(sent), 2),
        "fan_rss_mib": {
            "connected": connected["now"],
            "peak_during_stream": max(peak),
            "after_disconnect": after["now"],
        },
    }


def _figures(
    sent: list[tuple[str, float, float]],
    seen: list[dict[str, Any]],
    incidents: int,
    dashboards: int,
    rate: float,
) -> dict[str, Any]:
    from_request: list[float] = []
    from_ack: list[float] = []
    receipts: dict[str, list[float]] = {}
    for part in seen:
        for incident, times in part["incidents"].items():
            receipts.setdefault(incident, []).extend(times)
    last = sent[-1][2]
    for incident, t0, t1 in sent:
        for at in receipts.get(incident, []):
            from_request.append(at - t0)
            from_ack.append(at - t1)
            last = max(last, at)
    boards = [board for part in seen for board in part["dashboards"]]
    lags: list[float] = []
    snapshots = 0
    for board in boards:
        snapshots += len(board)
        base = board[0][1]  # the snapshot on subscribe, before the stream
        for k, (_incident, _t0, t1) in enumerate(sent):
            counted = next((at for at, total in board if total >= base + k + 1), None)
            if counted is not None:
                lags.append(counted - t1)
    duration = last - sent[0][1]
    return {
        "subscribers": {"incidentLogged": incidents, "dashboard": dashboards},
        "events": len(sent),
        "mutation_rate_per_s": {
            "target": rate,
            "achieved": round(len(sent) / (sent[-1][2] - sent[0][1]), 2),
        },
        "receipts": len(from_request),
        "missing_receipts": len(sent) * incidents - len(from_request),
        "receipts_per_s": round(len(from_request) / duration, 1),
        "request_to_receive_ms": percentiles(from_request),
        "ack_to_receive_ms": percentiles(from_ack),
        "mutation_ms": percentiles([t1 - t0 for _i, t0, t1 in sent]),
        "dashboard": {
            "snapshots": snapshots,
            "snapshots_per_subscriber_per_s": round(snapshots / max(1, len(boards)) / duration, 2),
            "ack_to_snapshot_ms": percentiles(lags),
            "missing": len(sent) * len(boards) - len(lags),
        },
        "duplicates": sum(p["duplicates"] for p in seen),
        "errors": sum(p["error_count"] for p in seen),
        "connections_lost": sum(p["connections_lost"] for p in seen),
    }


async def raw_broadcast(demo: Demo, subscribers: int) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.rawbroadcast",
        demo.services.redis_url,
        str(subscribers),
        str(max(RATES)),
        str(SECONDS),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    figures: dict[str, Any] = json.loads(out)
    return figures


async def run(demo: Demo, port: int) -> dict[str, Any]:
    from app.students.models import Student

    async with demo.db.transaction(demo.org.id) as session:
        ids = (await session.execute(select(Student.id).order_by(Student.name))).scalars()
        students = [to_global_id("Student", i) for i in ids]
    async with api_server(demo, port) as fan, api_server(demo, port + 1) as writer:
        assert fan.process is not None
        idle = rss_mib(fan.process.pid)["now"]
        small = await phase(demo, fan, writer, students, 10, 2, max(RATES))
        full = {
            f"rate_{rate:g}": await phase(demo, fan, writer, students, INCIDENTS, DASHBOARDS, rate)
            for rate in RATES
        }
    raw_one = await raw_broadcast(demo, 1)
    raw_many = await raw_broadcast(demo, INCIDENTS)
    busiest = full[f"rate_{max(RATES):g}"]
    return {
        "fan_rss_idle_mib": idle,
        "small": small,
        "full": full,
        "raw_broadcaster": {"one_subscriber": raw_one, f"{INCIDENTS}_subscribers": raw_many},
        "summary": {
            "p99_ms_request_to_receive": {
                name: figures["request_to_receive_ms"]["p99"] for name, figures in full.items()
            },
            "p99_ms_raw_broadcaster": raw_many["latency_ms"]["p99"],
            "sql_statements_per_event": {
                "12_subscribers": small["sql_statements_per_event"],
                f"{INCIDENTS + DASHBOARDS}_subscribers": busiest["sql_statements_per_event"],
            },
            "receipts_per_s": {name: figures["receipts_per_s"] for name, figures in full.items()},
            "missing_receipts": sum(figures["missing_receipts"] for figures in full.values()),
            "duplicates": sum(figures["duplicates"] for figures in full.values()),
            "fan_rss_mib": {"idle": idle, **busiest["fan_rss_mib"]},
        },
    }


async def main() -> None:
    async with demo_school() as demo:
        figures = await run(demo, 19000 + os.getpid() % 1000)
    print(json.dumps({"fanout": figures}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
