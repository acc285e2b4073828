"""`make bench` (`python -m bench [--peers]`): the speed issue's figures, in one run, on one
database (the demo school, embedded servers of its own). Prints JSON. Not a test: no
thresholds; the figures are ratios against floors measured in the same run.

- Reads — the class view, the full class dashboard query and a `node(id:)` lookup — at 1 and
  10 connections: on the compiled path (as shipped), on the resolver path
  (COMPILED_READS=false), and against the raw floors (bench.floors: two asyncpg statements
  into dicts and stdlib JSON; one JSON-building statement passed through).
- logIncident at 1 and 50 connections, against the same writes in a raw asyncpg
  transaction behind a bare route.
- `serve --workers 1` and `--workers 2` for reads and writes.
- `--peers` (`make bench-peers`): PostGraphile 5 on the same database and class view.
- The class view's targets head to head: the compiled path, the one-statement floor (and
  PostGraphile 5 with `--peers`) all up at once, measured in turn over three rounds; the
  medians, and the median of each round's ratios (`summary.class_view_head_to_head`).
- The SQL statements each request runs (in-process, counted).
- Live fan-out (bench.fanout): 1,000 + 200 WebSocket subscribers while logIncident streams
  in, beside a raw broadcaster round trip; `python -m bench.fanout` runs it alone.
- Attendance imports (bench.imports) of 10,000 and 100,000 rows through a real worker,
  beside COPY of the same file; `python -m bench.imports` runs it alone.
- Search (bench.search) over 100,000 generated notes: latency beside the bare KNN
  statement, HNSW recall against an exact scan; `python -m bench.search` runs it alone.
- IEP progress reports (bench.iep_reports): one student (5 goals, 60 probes each) and a
  caseload of 30, PDF and DOCX, beside their reads alone; `python -m bench.iep_reports`.
Every server (API, floors, peer) is its own process on a loopback port, and the load comes
from another (bench.load: wrk when installed). Each run's answer is checked first.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import event, select

from app.graphql.relay import to_global_id
from bench import fanout, iep_reports, imports, load, search
from bench.demo import SECRET, Demo, Server, api_server, demo_school

CLASS = "8B"
CLASS_VIEW = """query ClassView($cls: String!) { students(first: 30, filter: {classCode: $cls}) {
  edges { node { id name
    incidents(first: 10) { edges { node { id occurredAt kind category } } } } } } }"""
DASHBOARD = """query ClassDashboard($cls: String!) {
  students(first: 30, filter: {classCode: $cls}) { edges { node {
  id name riskTier strikeLevel housePoints risk { tier factors { indicator value threshold } }
  incidents(first: 10) { edges { node { id category strikeLevel occurredAt } } }
  attendanceSummary { rate daysAbsent tardies } latestDiagnostics { subject scaleScore } } } } }"""
NODE = """query Node($id: ID!) { node(id: $id) { __typename id
  ... on Student { name classCode yearGroup housePoints riskTier } } }"""
LOG = """mutation Log($input: LogIncidentInput!) { logIncident(input: $input) {
  incident { id strikeLevel } errors { code } } }"""

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
READ_CONNECTIONS = (1, 10)
WRITE_CONNECTIONS = (1, 50)


def _body(query: str, variables: dict[str, Any]) -> str:
    return json.dumps({"query": query, "variables": variables})


def floors_server(demo: Demo, port: int) -> Server:
    env = {**os.environ, "DATABASE_URL": demo.dsn}
    return Server([sys.executable, "-m", "bench.floors", str(port)], env, port)


async def _answer(url: str, body: str, headers: dict[str, str]) -> Any:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url, content=body, headers={"content-type": "application/json", **headers}
        )
    response.raise_for_status()
    return response.json()


async def measure(
    url: str,
    bodies: list[str],
    headers: dict[str, str],
    connections: tuple[int, ...],
    expected: Any = None,
) -> dict[str, Any]:
    """Figures at each connection count, after checking the answer (and warming up)."""
    answer = await _answer(url, bodies[0], headers)
    assert "errors" not in answer, json.dumps(answer)[:400]
    figures: dict[str, Any] = {}
    if expected is not None:
        figures["same_answer"] = answer == expected
    for n in connections:
        figures[f"c{n}"] = await asyncio.to_thread(load.run, url, bodies, headers, n, SECONDS)
    return figures


def ratio(a: dict[str, Any], b: dict[str, Any], key: str = "throughput_rps") -> float:
    return round(a[key] / b[key], 2) if b[key] else float("nan")


HEAD_TO_HEAD_ROUNDS = 3
Contender = tuple[str, list[str], dict[str, str]]  # url, bodies, headers


async def head_to_head(
    contenders: dict[str, Contender], versus: str, connections: tuple[int, ...]
) -> dict[str, Any]:
    """The contenders measured in turn, round after round (A B C, A B C, ...), every server
    up at once: what drifts over a run on a shared machine (autovacuum, a neighbour's load)
    falls on all of them alike, where one measurement each, minutes apart, can put it on one.
    Per connection count: each contender's median req/s and p50, and the median over rounds
    of each one's throughput over `versus`'s in the same round."""
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        name: {n: [] for n in connections} for name in contenders
    }
    for _ in range(HEAD_TO_HEAD_ROUNDS):
        for n in connections:
            for name, (url, bodies, headers) in contenders.items():
                figures = await asyncio.to_thread(load.run, url, bodies, headers, n, SECONDS)
                runs[name][n].append(figures)
    out: dict[str, Any] = {"rounds": HEAD_TO_HEAD_ROUNDS}
    for n in connections:
        mine = runs[versus][n]
        out[f"c{n}"] = {
            "median_req_s": {
                name: statistics.median(r["throughput_rps"] for r in runs[name][n])
                for name in contenders
            },
            "median_p50_ms": {
                name: statistics.median(r["p50_ms"] for r in runs[name][n]) for name in contenders
            },
            f"median_ratio_over_{versus}": {
                name: statistics.median(
                    ratio(theirs, ours) for theirs, ours in zip(runs[name][n], mine, strict=True)
                )
                for name in contenders
                if name != versus
            },
        }
    return out


@asynccontextmanager
async def in_process(demo: Demo, compiled: bool) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    from app.main import create_app

    settings = demo.settings.model_copy(update={"compiled_reads": compiled})
    app = create_app(
        settings=settings,
        database_url=demo.services.database_url,
        redis_url=demo.services.redis_url,
        jwt_secret=SECRET,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {demo.token}"},
        ) as http,
    ):
        yield http, app.state.services.db


async def statement_counts(demo: Demo, bodies: dict[str, str]) -> dict[str, Any]:
    """SQL statements per request (the second of two: plans and org lookups are cached),
    transaction setup (`set_config`) counted apart."""
    counts: dict[str, Any] = {}
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    for compiled in (True, False):
        async with in_process(demo, compiled) as (http, db):
            engine = db.engine.sync_engine
            event.listen(engine, "before_cursor_execute", listener)
            db.read_listeners.append(statements.append)
            try:
                for name, body in bodies.items():
                    if name == "logIncident" and not compiled:
                        continue
                    headers = {"content-type": "application/json"}
                    await http.post("/graphql", content=body, headers=headers)
                    statements.clear()
                    await http.post("/graphql", content=body, headers=headers)
                    setup = sum("set_config" in s for s in statements)
                    path = "compiled" if compiled else "resolver"
                    counts[f"{name}_{path}" if name != "logIncident" else name] = {
                        "statements": len(statements) - setup,
                        "transaction_setup": setup,
                    }
            finally:
                db.read_listeners.remove(statements.append)
                event.remove(engine, "before_cursor_execute", listener)
    return counts


async def main(peers: bool) -> None:
    from app.students.models import Student

    async with demo_school() as demo:
        async with demo.db.transaction(demo.org.id) as session:
            ids = list((await session.execute(select(Student.id).order_by(Student.name))).scalars())
            in_class = list(
                (
                    await session.execute(
                        select(Student.id).where(Student.class_code == CLASS).limit(1)
                    )
                ).scalars()
            )
        auth = {"Authorization": f"Bearer {demo.token}"}
        org = str(demo.org.id)
        node_id = to_global_id("Student", in_class[0])
        reads = {
            "class_view": _body(CLASS_VIEW, {"cls": CLASS}),
            "class_dashboard": _body(DASHBOARD, {"cls": CLASS}),
            "node": _body(NODE, {"id": node_id}),
        }
        logs = [
            _body(
                LOG,
                {
                    "input": {
                        "studentId": to_global_id("Student", i),
                        "kind": "NEGATIVE",
                        "category": "bench",
                    }
                },
            )
            for i in ids
        ]
        port = 18000 + os.getpid() % 1000
        results: dict[str, Any] = {
            "load_generator": load.GENERATOR,
            "seconds_per_run": SECONDS,
            "machine_cpus": os.cpu_count(),
            "data": {"students": len(ids), "class": CLASS},
        }
        counts = await statement_counts(demo, {**reads, "logIncident": logs[0]})

        # The resolver path's answers are the reference every other path must match.
        reference: dict[str, Any] = {}
        resolver: dict[str, Any] = {}
        async with api_server(demo, port, compiled=False, workers=1) as api:
            for name, body in reads.items():
                reference[name] = await _answer(f"{api.url}/graphql", body, auth)
                resolver[name] = await measure(f"{api.url}/graphql", [body], auth, READ_CONNECTIONS)
        compiled: dict[str, dict[str, Any]] = {}
        for workers in (1, 2):
            async with api_server(demo, port, compiled=True, workers=workers) as api:
                compiled[f"workers_{workers}"] = {
                    name: await measure(
                        f"{api.url}/graphql", [body], auth, READ_CONNECTIONS, reference[name]
                    )
                    for name, body in reads.items()
                }
        floors: dict[str, Any] = {}
        raw_logs = [json.dumps({"org": org, "id": str(i)}) for i in ids]
        writes: dict[str, Any] = {}
        async with floors_server(demo, port) as raw:
            for view, body in (
                ("class_view", json.dumps({"org": org, "cls": CLASS})),
                ("node", json.dumps({"org": org, "id": str(in_class[0])})),
            ):
                path = "class" if view == "class_view" else "node"
                floors[view] = {
                    kind: await measure(
                        f"{raw.url}/{kind}/{path}", [body], {}, READ_CONNECTIONS, reference[view]
                    )
                    for kind in ("python", "sql")
                }
            peer: dict[str, Any] = {}
            if peers:
                peer = await postgraphile(demo, port + 1, reference["class_view"])
            # The class view's targets, measured head to head (see head_to_head).
            class_body = json.dumps({"org": org, "cls": CLASS})
            contenders: dict[str, Contender] = {
                "floor_one_json_statement": (f"{raw.url}/sql/class", [class_body], {}),
            }
            async with contestants(demo, port + 3, port + 1, peers) as (api, graphile):
                contenders["compiled"] = (f"{api.url}/graphql", [reads["class_view"]], auth)
                if graphile is not None:
                    body = _body(peers_module().POSTGRAPHILE_CLASS_VIEW, {"cls": CLASS})
                    contenders["postgraphile5"] = (graphile, [body], {})
                versus = await head_to_head(contenders, "compiled", READ_CONNECTIONS)
            # Writes last: they change what the reads answer.
            writes["raw_asyncpg"] = await measure(
                f"{raw.url}/write/log-incident", raw_logs, {}, WRITE_CONNECTIONS
            )
        for workers in (1, 2):
            async with api_server(demo, port, compiled=True, workers=workers) as api:
                writes[f"api_workers_{workers}"] = await measure(
                    f"{api.url}/graphql", logs, auth, WRITE_CONNECTIONS
                )

        # Live fan-out (bench.fanout): its own servers, the same database.
        live = await fanout.run(demo, port + 2)
        # Imports last (bench.imports): a real worker, 10k and 100k attendance rows.
        imported = await imports.run(demo)
        # Search (bench.search): 100,000 generated notes in the same database.
        searched = await search.run(demo)
        # IEP progress reports (bench.iep_reports): one student's and a caseload of 30.
        iep = await iep_reports.run(demo)

        one = compiled["workers_1"]
        summary: dict[str, Any] = {"class_view_head_to_head": versus}
        for n in READ_CONNECTIONS:
            c = f"c{n}"
            summary[f"class_view_{c}"] = {
                "req_s": {
                    "compiled": one["class_view"][c]["throughput_rps"],
                    "compiled_workers_2": compiled["workers_2"]["class_view"][c]["throughput_rps"],
                    "resolver": resolver["class_view"][c]["throughput_rps"],
                    "floor_python_two_statements": floors["class_view"]["python"][c][
                        "throughput_rps"
                    ],
                    "floor_one_json_statement": floors["class_view"]["sql"][c]["throughput_rps"],
                    **(
                        {
                            "postgraphile5": peer["rls"][c]["throughput_rps"],
                            "postgraphile5_no_rls": peer["no_rls"][c]["throughput_rps"],
                        }
                        if peer
                        else {}
                    ),
                },
                "p50_ms_compiled": one["class_view"][c]["p50_ms"],
                "compiled_over_resolver": ratio(one["class_view"][c], resolver["class_view"][c]),
                "one_statement_floor_over_compiled": ratio(
                    floors["class_view"]["sql"][c], one["class_view"][c]
                ),
                **(
                    {
                        "compiled_over_postgraphile5": ratio(one["class_view"][c], peer["rls"][c]),
                        "compiled_over_postgraphile5_no_rls": ratio(
                            one["class_view"][c], peer["no_rls"][c]
                        ),
                    }
                    if peer
                    else {}
                ),
            }
            summary[f"node_{c}"] = {
                "compiled_over_resolver": ratio(one["node"][c], resolver["node"][c]),
                "one_statement_floor_over_compiled": ratio(
                    floors["node"]["sql"][c], one["node"][c]
                ),
            }
            summary[f"class_dashboard_{c}"] = {
                "compiled_over_resolver": ratio(
                    one["class_dashboard"][c], resolver["class_dashboard"][c]
                ),
            }
        for n in WRITE_CONNECTIONS:
            c = f"c{n}"
            api_w, raw_w = writes["api_workers_1"][c], writes["raw_asyncpg"][c]
            summary[f"log_incident_{c}"] = {
                "p50_ms": {"api": api_w["p50_ms"], "raw": raw_w["p50_ms"]},
                "req_s": {
                    "api": api_w["throughput_rps"],
                    "api_workers_2": writes["api_workers_2"][c]["throughput_rps"],
                    "raw": raw_w["throughput_rps"],
                },
                "raw_over_api_throughput": ratio(raw_w, api_w),
                "api_over_raw_p50": ratio(api_w, raw_w, "p50_ms"),
            }
        summary["live_fanout"] = live["summary"]
        summary["iep_reports"] = {
            k: iep[k]
            for k in ("one_student_pdf", "one_student_docx", "caseload_pdf", "caseload_docx")
        }
        summary["attendance_import"] = [
            {
                k: run[k]
                for k in (
                    "rows",
                    "seconds",
                    "rows_per_s",
                    "import_over_copy",
                    "worker_rss_peak_mib",
                )
            }
            for run in imported["attendance"]
        ]
        summary["search"] = {
            k: searched[k]
            for k in (
                "search_ms",
                "raw_knn_ms",
                "recall_at_10_hnsw_vs_exact",
                "hnsw_build_s",
                "embedding_docs_per_s",
            )
        }
        results.update(
            summary=summary,
            statements=counts,
            compiled=compiled,
            resolver=resolver,
            floors=floors,
            writes=writes,
            fanout=live,
            imports=imported,
            search=searched,
            iep_reports=iep,
            **({"postgraphile5": peer} if peer else {}),
        )
        print(json.dumps(results, indent=2))


def peers_module() -> Any:
    from bench import peers

    return peers


@asynccontextmanager
async def contestants(
    demo: Demo, api_port: int, graphile_port: int, with_peer: bool
) -> AsyncIterator[tuple[Server, str | None]]:
    """The compiled API (one worker) and, with `with_peer`, PostGraphile 5 with RLS, both up."""
    async with api_server(demo, api_port, compiled=True, workers=1) as api:
        if not with_peer:
            yield api, None
            return
        peers = peers_module()
        process = await peers.start_postgraphile(demo.dsn, str(demo.org.id), graphile_port)
        try:
            yield api, f"http://127.0.0.1:{graphile_port}/graphql"
        finally:
            await peers.stop(process)


async def postgraphile(demo: Demo, port: int, reference: Any) -> dict[str, Any]:
    """PostGraphile 5 on the class view: as we serve it (role and org per request, RLS on),
    and without RLS (its statement alone, as the database owner)."""
    peers = peers_module()
    peers.ensure_installed()
    figures: dict[str, Any] = {}
    for name, rls in (("rls", True), ("no_rls", False)):
        process = await peers.start_postgraphile(demo.dsn, str(demo.org.id), port, rls=rls)
        try:
            url = f"http://127.0.0.1:{port}/graphql"
            body = _body(peers.POSTGRAPHILE_CLASS_VIEW, {"cls": CLASS})
            theirs = await _answer(url, body, {})
            figures[name] = await measure(url, [body], {}, READ_CONNECTIONS)
            figures[name]["same_answer"] = peers.same_answer(reference, theirs)
        finally:
            await peers.stop(process)
    return figures


if __name__ == "__main__":
    asyncio.run(main(peers="--peers" in sys.argv[1:]))
