"""`make bench`: logIncident over HTTP at 50 concurrent clients vs a raw asyncpg transaction
doing the same writes, and the class dashboard query. Prints JSON. Not a test: no thresholds.

The API runs under uvicorn in a subprocess on a loopback port; the load comes from this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event

from app import migrate
from app.auth.tokens import issue
from app.config import Settings
from app.db import Database, create_engine
from app.devservices import EmbeddedServices
from app.orgs import service as orgs
from app.orgs.models import Role
from app.seed import seed_demo

SECRET = "bench-secret-" + uuid.uuid4().hex
CLIENTS, PER_CLIENT = 50, 20
DASHBOARD = """query($cls: String!) { students(first: 30, filter: {classCode: $cls}) { edges { node {
  id name riskTier strikeLevel housePoints risk { tier factors { indicator value threshold } }
  incidents(first: 10) { edges { node { id category strikeLevel occurredAt } } }
  attendanceSummary { rate daysAbsent tardies } latestDiagnostics { subject scaleScore } } } } }"""
LOG = """mutation($input: LogIncidentInput!) { logIncident(input: $input) {
  incident { id strikeLevel } errors { code } } }"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def http_log_incidents(url: str, token: str, student_ids: list[str]) -> dict[str, float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:

        async def client(n: int) -> None:
            for i in range(PER_CLIENT):
                sid = student_ids[(n * PER_CLIENT + i) % len(student_ids)]
                variables = {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "b"}}
                start = time.perf_counter()
                r = await http.post("/graphql", json={"query": LOG, "variables": variables})
                latencies.append(time.perf_counter() - start)
                assert r.status_code == 200 and not r.json().get("errors"), r.text

        begin = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
        elapsed = time.perf_counter() - begin
    return {
        "requests": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


async def raw_log_incidents(
    dsn: str, org_id: uuid.UUID, student_ids: list[uuid.UUID]
) -> dict[str, float]:
    """The same writes as logIncident (lock, strike count, insert, points, audit) in asyncpg."""
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
    latencies: list[float] = []

    async def client(n: int) -> None:
        for i in range(PER_CLIENT):
            sid = student_ids[(n * PER_CLIENT + i) % len(student_ids)]
            start = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "SELECT set_config('role','schoolgraph_app',true), set_config('app.org_id',$1,true)",
                    str(org_id),
                )
                await conn.fetchrow("SELECT id FROM students WHERE id=$1 FOR UPDATE", sid)
                prior = await conn.fetchval(
                    "SELECT count(*) FROM incidents WHERE student_id=$1 AND kind='NEGATIVE' "
                    "AND occurred_at > now() - interval '24 hours'",
                    sid,
                )
                iid = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO incidents (id, org_id, student_id, kind, category, points, "
                    "occurred_at, source, strike_level, consequence_text, admin_notified, "
                    "hod_consulted, parent_meeting_scheduled) VALUES ($1,$2,$3,'NEGATIVE','b',-1,"
                    "now(),'bench',$4,'x',false,false,false)",
                    iid,
                    org_id,
                    sid,
                    min(prior // 2 + 1, 3),
                )
                await conn.execute(
                    "UPDATE students SET house_points = house_points - 1 WHERE id=$1", sid
                )
                await conn.execute(
                    "INSERT INTO audit_log (org_id, actor_sub, actor_role, action, entity_type, "
                    "entity_id, after) VALUES ($1,'bench','ADMIN','incident.log','Incident',$2,'{}')",
                    org_id,
                    iid,
                )
            latencies.append(time.perf_counter() - start)

    begin = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - begin
    await pool.close()
    return {
        "requests": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


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
    data_dir = Path(tempfile.mkdtemp(prefix="schoolgraph-bench-"))
    services = EmbeddedServices(data_dir).start()
    os.environ["BENCH_REDIS_URL"] = services.redis_url
    server = None
    try:
        await asyncio.to_thread(migrate.upgrade, services.database_url)
        settings = Settings(jwt_secret=SECRET)
        db = Database(create_engine(settings, services.database_url), settings.db_app_role)
        await seed_demo(db, slug="demo")
        async with db.admin_transaction() as session:
            org = await orgs.get_by_slug(session, slug="demo")
        assert org is not None
        from sqlalchemy import select

        from app.students.models import Student

        async with db.transaction(org.id) as session:
            ids = list((await session.execute(select(Student.id).limit(200))).scalars())
        from app.graphql.relay import to_global_id

        token = issue(SECRET, sub="bench", org="demo", role=Role.ADMIN)
        port = 18000 + os.getpid() % 1000
        env = {
            **os.environ,
            "DATABASE_URL": services.database_url,
            "REDIS_URL": services.redis_url,
            "JWT_SECRET": SECRET,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        api = await http_log_incidents(url, token, [to_global_id("Student", i) for i in ids])
        raw = await raw_log_incidents(services.database_url.replace("+asyncpg", ""), org.id, ids)
        dash = await dashboard(url, token, db)
        dash["sql_statements_per_request"] = await count_dashboard_statements(db, token, settings)
        await db.dispose()
        print(
            json.dumps(
                {
                    "log_incident_http": api,
                    "log_incident_raw_asyncpg": raw,
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
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        services.destroy()


if __name__ == "__main__":
    asyncio.run(main())
