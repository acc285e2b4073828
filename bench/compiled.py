"""`python -m bench.compiled`: the class view (issue 16) three ways, in one run, on the demo
school. Prints JSON. Not a test: no thresholds.

- resolver: /graphql over HTTP with COMPILED_READS=false: the resolver tree and DataLoaders;
- compiled: /graphql over HTTP as shipped (COMPILED_READS on), so one statement builds the
  JSON; also `execute_compiled` in-process (no HTTP, no Strawberry);
- raw: a hand-written asyncpg transaction (the same set_config, then one JSON-building
  statement): the floor the compiled path is measured against.
Each API runs under uvicorn in a subprocess on a loopback port; the load comes from here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from app.config import Settings
from app.db import Database
from app.orgs.models import Role
from bench.demo import SECRET, demo_school, wait_healthy

CLASS_VIEW = """query($cls: String!) { students(first: 30, filter: {classCode: $cls}) {
  edges { node { id name
    incidents(first: 10) { edges { node { id occurredAt kind category } } } } } } }"""
CLASS = "8B"
CLIENTS = 16

_ID = "translate(encode(convert_to('{t}:' || {a}.id::text, 'UTF8'), 'base64'), E'+/\\n', '-_')"
_AT = (
    "replace(to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
    " '.000000', '') || '+00:00'"
)
# Written by hand, the way one would without a compiler: LATERAL joins, the same JSON.
RAW_SCOPE = (
    "SELECT set_config('role', 'schoolgraph_app', true), set_config('app.org_id', $1, true),"
    " set_config('statement_timeout', '5000', true)"
)
RAW_CLASS_VIEW = f"""
SELECT json_build_object('data', json_build_object('students', json_build_object('edges',
  coalesce((SELECT json_agg(json_build_object('node', json_build_object(
      'id', {_ID.format(t="Student", a="s")}, 'name', s.name, 'incidents', inc.j))
      ORDER BY s.name, s.id)
    FROM (SELECT id, name FROM students WHERE org_id = $1 AND class_code = $2
          ORDER BY name, id LIMIT 30) s
    CROSS JOIN LATERAL (SELECT json_build_object('edges', coalesce(json_agg(json_build_object(
        'node', json_build_object('id', {_ID.format(t="Incident", a="i")}, 'occurredAt', {_AT},
        'kind', i.kind, 'category', i.category)) ORDER BY i.occurred_at DESC, i.id DESC),
        '[]'::json)) AS j
      FROM (SELECT * FROM incidents WHERE org_id = $1 AND student_id = s.id
            ORDER BY occurred_at DESC, id DESC LIMIT 10) i) inc), '[]'::json))))::text"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


async def load(one: Callable[[], Awaitable[None]], requests: int, clients: int) -> dict[str, float]:
    latencies: list[float] = []
    per_client = max(1, requests // clients)

    async def client() -> None:
        for _ in range(per_client):
            start = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - start)

    await one()  # warm: plans, prepared statements, connections
    begin = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - begin
    return {
        "requests": len(latencies),
        "clients": clients,
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


async def http_path(url: str, token: str, requests: int, clients: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    body = {"query": CLASS_VIEW, "variables": {"cls": CLASS}}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:

        async def one() -> None:
            r = await http.post("/graphql", json=body)
            assert r.status_code == 200 and "errors" not in r.json(), r.text[:300]

        figures: dict[str, Any] = {
            "one_client": await load(one, max(20, requests // 4), 1),
            "concurrent": await load(one, requests, clients),
        }
        answer = (await http.post("/graphql", json=body)).json()
    figures["answer"] = answer
    return figures


async def raw_path(dsn: str, org_id: uuid.UUID, requests: int, clients: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    assert pool is not None

    async def one() -> str:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(RAW_SCOPE, str(org_id))
            text: str = await conn.fetchval(RAW_CLASS_VIEW, org_id, CLASS)
            return text

    async def run() -> None:
        await one()

    figures: dict[str, Any] = {
        "one_client": await load(run, max(20, requests // 4), 1),
        "concurrent": await load(run, requests, clients),
    }
    figures["answer"] = json.loads(await one())
    await pool.close()
    return figures


async def in_process(db: Database, org_id: uuid.UUID, requests: int) -> dict[str, Any]:
    from app.auth.principal import Principal
    from app.graphql.compiled import execute_compiled
    from app.graphql.schema import build_schema

    settings = Settings(jwt_secret=SECRET)
    schema = build_schema(settings)
    principal = Principal(sub="bench", role=Role.ADMIN, org_id=org_id, org_slug="demo")

    async def one() -> None:
        result = await execute_compiled(
            db, principal, schema, CLASS_VIEW, None, {"cls": CLASS}, settings
        )
        assert result is not None and not result.fallback

    return {"one_client": await load(one, requests, 1)}


def serve(port: int, compiled: bool) -> None:
    """The API as `schoolgraph serve` runs it, with COMPILED_READS on or off."""
    import uvicorn

    from app.config import get_settings
    from app.main import create_app

    settings = get_settings().model_copy(update={"compiled_reads": compiled})
    app = create_app(settings=settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


async def _start(port: int, compiled: bool, env: dict[str, str]) -> asyncio.subprocess.Process:
    args = [sys.executable, "-m", "bench.compiled", "serve", str(port)]
    if compiled:
        args.append("compiled")
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    await wait_healthy(f"http://127.0.0.1:{port}")
    return process


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await asyncio.wait_for(process.wait(), 10)


async def main() -> None:
    requests = int(os.environ.get("BENCH_REQUESTS", "400"))
    async with demo_school() as demo:
        env = demo.env(LOG_LEVEL="WARNING")
        port = 19000 + os.getpid() % 1000
        results: dict[str, Any] = {}
        for name, compiled, count in (
            ("resolver_http", False, max(40, requests // 4)),
            ("compiled_http", True, requests),
        ):
            server = await _start(port, compiled, env)
            try:
                url = f"http://127.0.0.1:{port}"
                results[name] = await http_path(url, demo.token, count, CLIENTS)
            finally:
                await _stop(server)
        results["compiled_in_process"] = await in_process(demo.db, demo.org.id, requests)
        results["raw_asyncpg_one_statement"] = await raw_path(
            demo.dsn, demo.org.id, requests, CLIENTS
        )

        answers = {k: v.pop("answer") for k, v in results.items() if "answer" in v}
        reference = answers["resolver_http"]
        same = {k: v == reference for k, v in answers.items()}
        compiled_http, raw, resolver = (
            results["compiled_http"],
            results["raw_asyncpg_one_statement"],
            results["resolver_http"],
        )
        edges = reference["data"]["students"]["edges"]
        print(
            json.dumps(
                {
                    **results,
                    "same_answer_as_resolver": same,
                    "students": len(edges),
                    "incidents": sum(len(e["node"]["incidents"]["edges"]) for e in edges),
                    "ratio_throughput_compiled_over_resolver": round(
                        compiled_http["concurrent"]["throughput_rps"]
                        / resolver["concurrent"]["throughput_rps"],
                        1,
                    ),
                    "ratio_throughput_raw_over_compiled": round(
                        raw["concurrent"]["throughput_rps"]
                        / compiled_http["concurrent"]["throughput_rps"],
                        2,
                    ),
                    "ratio_p50_1_client_compiled_over_raw": round(
                        compiled_http["one_client"]["p50_ms"] / raw["one_client"]["p50_ms"], 2
                    ),
                    "machine_cpus": os.cpu_count(),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), compiled=len(sys.argv) > 3 and sys.argv[3] == "compiled")
    else:
        asyncio.run(main())
