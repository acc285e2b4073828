"""`make bench`: logIncident over HTTP at 50 concurrent clients vs a raw asyncpg transaction
doing the same writes, and the class dashboard query. Prints JSON. Not a test: no thresholds.

The API runs under uvicorn in a subprocess on a loopback port; the load comes from this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

import asyncpg
import httpx
from sqlalchemy import event

from app.config import Settings
from app.db import Database
from bench.demo import SECRET, demo_school, wait_healthy

CLIENTS, PER_CLIENT = 50, 20
DASHBOARD = """query($cls: String!) {
  students(first: 30, filter: {classCode: $cls}) { edges { node {
  id name riskTier strikeLevel housePoints risk { tier factors { indicator value threshold } }
  incidents(first: 10) { edges { node { id category strikeLevel occurredAt } } }
  attendanceSummary { rate daysAbsent tardies } latestDiagnostics { subject scaleScore } } } } }"""
LOG = """mutation($input: LogIncidentInput!) { logIncident(input: $input) {
  incident { id strikeLevel } errors { code } } }"""


def _figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def http_log_incidents(
    url: str,
    token: str,
    student_ids: list[str],
    clients: int = CLIENTS,
    per_client: int = PER_CLIENT,
) -> dict[str, float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:

        async def client(n: int) -> None:
            for i in range(per_client):
                sid = student_ids[(n * per_client + i) % len(student_ids)]
                variables = {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "b"}}
                start = time.perf_counter()
                r = await http.post("/graphql", json={"query": LOG, "variables": variables})
                latencies.append(time.perf_counter() - start)
                assert r.status_code == 200 and not r.json().get("errors"), r.text

        begin = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - begin
    return _figures(latencies, elapsed)


# The statements logIncident runs (see tests: 11 when the risk history does not change),
# written by hand: lock, policy, strike count, insert, audit, the three risk reads, update.
RAW_SCOPE = "SELECT set_config('role','schoolgraph_app',true), set_config('app.org_id',$1,true)"
RAW_STATEMENTS = {
    "lock": "SELECT id, house_points FROM students WHERE id = $1 FOR UPDATE",
    "policy": "SELECT settings FROM orgs WHERE id = $1",
    "strike": "SELECT count(*) FROM incidents WHERE org_id = $1 AND student_id = $2 "
    "AND kind = 'NEGATIVE' AND occurred_at > now() - interval '24 hours'",
    "insert": "INSERT INTO incidents (id, org_id, student_id, kind, category, points, "
    "occurred_at, source, strike_level, consequence_text, admin_notified, hod_consulted, "
    "parent_meeting_scheduled, created_at, updated_at) VALUES ($1, $2, $3, 'NEGATIVE', 'b', "
    "-1, now(), 'bench', $4, 'x', false, false, false, now(), now())",
    "audit": "INSERT INTO audit_log (org_id, actor_sub, actor_role, action, entity_type, "
    "entity_id, after) VALUES ($1, 'bench', 'ADMIN', 'incident.log', 'Incident', $2, '{}')",
    "behaviour": "SELECT count(*), max(strike_level) FROM incidents WHERE org_id = $1 "
    "AND student_id = $2 AND kind = 'NEGATIVE' AND occurred_at > now() - interval '7 days'",
    "attendance": "SELECT count(*), sum(present_periods), sum(scheduled_periods) FROM ("
    "SELECT * FROM attendance_days WHERE org_id = $1 AND student_id = $2 "
    "ORDER BY day DESC LIMIT 30) AS recent",
    "diagnostics": "SELECT DISTINCT ON (subject) subject, grade_levels_relative "
    "FROM assessments WHERE org_id = $1 AND student_id = $2 AND kind = 'DIAGNOSTIC' "
    "ORDER BY subject, taken_on DESC",
    "update": "UPDATE students SET house_points = house_points - 1, risk_computed_at = now(), "
    "updated_at = now() WHERE id = $1",
}


async def raw_log_incidents(
    dsn: str,
    org_id: uuid.UUID,
    student_ids: list[uuid.UUID],
    clients: int = CLIENTS,
    per_client: int = PER_CLIENT,
) -> dict[str, float]:
    """The same statements as logIncident, by hand in asyncpg: the floor for the API."""
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=30)
    latencies: list[float] = []
    q = RAW_STATEMENTS

    async def one(conn: asyncpg.Connection, sid: uuid.UUID) -> None:
        await conn.execute(RAW_SCOPE, str(org_id))
        await conn.fetchrow(q["lock"], sid)
        await conn.fetchval(q["policy"], org_id)
        prior = await conn.fetchval(q["strike"], org_id, sid)
        iid = uuid.uuid4()
        await conn.execute(q["insert"], iid, org_id, sid, min(prior // 2 + 1, 3))
        await conn.execute(q["audit"], org_id, iid)
        await conn.fetchrow(q["behaviour"], org_id, sid)
        await conn.fetchrow(q["attendance"], org_id, sid)
        await conn.fetch(q["diagnostics"], org_id, sid)
        await conn.execute(q["update"], sid)

    async def client(n: int) -> None:
        for i in range(per_client):
            sid = student_ids[(n * per_client + i) % len(student_ids)]
            start = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await one(conn, sid)
            latencies.append(time.perf_counter() - start)

    begin = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - begin
    await pool.close()
    return _figures(latencies, elapsed)


async def dashboard(url: str, token: str, db: Database) -> dict[str, float]:
    latencies = []
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for _ in range(40):
            start = time.perf_counter()
            r = await http.post("/graphql", json={"query": DASHBOARD, "variables": {"cls": "8B"}})
            latencies.append(time.perf_counter() - start)
            assert r.status_code == 200 and not r.json().get("errors"), r.text[:300]
    return {
        "requests": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "throughput_rps": round(len(latencies) / sum(latencies), 1),
    }


async def count_dashboard_statements(db: Database, token: str, settings: Settings) -> int:
    from app.main import create_app

    # In-process so the engine's statements can be counted.
    app = create_app(
        settings=settings,
        database_url=str(db.engine.url.render_as_string(False)),
        redis_url=os.environ["BENCH_REDIS_URL"],
        jwt_secret=SECRET,
    )
    engine = app.state.services.db.engine.sync_engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://b",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        await http.post("/graphql", json={"query": DASHBOARD, "variables": {"cls": "8B"}})
        statements.clear()
        await http.post("/graphql", json={"query": DASHBOARD, "variables": {"cls": "8B"}})
    await app.state.services.db.dispose()
    return len(statements)


async def main() -> None:
    from sqlalchemy import select

    from app.graphql.relay import to_global_id
    from app.students.models import Student

    async with demo_school() as demo:
        os.environ["BENCH_REDIS_URL"] = demo.services.redis_url
        async with demo.db.transaction(demo.org.id) as session:
            ids = list((await session.execute(select(Student.id).limit(200))).scalars())
        port = 18000 + os.getpid() % 1000
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--port",
            str(port),
            env=demo.env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_healthy(url)
            gids = [to_global_id("Student", i) for i in ids]
            token, org_id = demo.token, demo.org.id
            api_1 = await http_log_incidents(url, token, gids, clients=1, per_client=200)
            raw_1 = await raw_log_incidents(demo.dsn, org_id, ids, clients=1, per_client=200)
            api = await http_log_incidents(url, token, gids)
            raw = await raw_log_incidents(demo.dsn, org_id, ids)
            dash = await dashboard(url, token, demo.db)
            dash["sql_statements_per_request"] = await count_dashboard_statements(
                demo.db, token, demo.settings
            )
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 10)
        print(
            json.dumps(
                {
                    "log_incident_http_1_client": api_1,
                    "log_incident_raw_1_client": raw_1,
                    "ratio_p50_1_client_api_over_raw": round(api_1["p50_ms"] / raw_1["p50_ms"], 2),
                    "log_incident_http": api,
                    "log_incident_raw_asyncpg_same_statements": raw,
                    "ratio_p50_api_over_raw": round(api["p50_ms"] / raw["p50_ms"], 2),
                    "ratio_throughput_raw_over_api": round(
                        raw["throughput_rps"] / api["throughput_rps"], 2
                    ),
                    "class_dashboard": dash,
                    "clients": CLIENTS,
                    "machine_cpus": os.cpu_count(),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
