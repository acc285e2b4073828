"""The raw floors the API is measured against: bare Starlette routes on asyncpg, written by
hand the way one would without GraphQL, under uvicorn in their own process as the API is.

Each read runs as the API's reads run — a transaction as the application role with the org
set (`set_config`, RLS on) — and answers the same JSON the API does for its document:
- `/python/<view>`: plain statements, rows into dicts, stdlib `json.dumps` (two statements
  for the class view: the students, then their incidents in one query);
- `/sql/<view>`: one statement that builds the whole JSON answer in Postgres; its text is
  passed through as the response body.
- `/write/log-incident`: logIncident's writes by hand (bench.writes.RAW_STATEMENTS) in one
  asyncpg transaction.

`python -m bench.floors PORT` serves them; the DSN comes from DATABASE_URL (asyncpg's form).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCOPE = (
    "SELECT set_config('role', 'schoolgraph_app', true), set_config('app.org_id', $1, true),"
    " set_config('statement_timeout', '5000', true)"
)

_ID = "translate(encode(convert_to('{t}:' || {a}.id::text, 'UTF8'), 'base64'), E'+/\\n', '-_')"
_AT = (
    "replace(to_char({a}.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),"
    " '.000000', '') || '+00:00'"
)

CLASS_STUDENTS = (
    "SELECT id, name FROM students WHERE org_id = $1 AND class_code = $2 ORDER BY name, id LIMIT 30"
)
CLASS_INCIDENTS = """SELECT student_id, id, occurred_at, kind::text AS kind, category FROM (
  SELECT i.*, row_number() OVER (PARTITION BY student_id ORDER BY occurred_at DESC, id DESC) AS n
  FROM incidents i WHERE org_id = $1 AND student_id = ANY($2::uuid[])) ranked
  WHERE n <= 10 ORDER BY student_id, occurred_at DESC, id DESC"""
CLASS_JSON = f"""
SELECT json_build_object('data', json_build_object('students', json_build_object('edges',
  coalesce((SELECT json_agg(json_build_object('node', json_build_object(
      'id', {_ID.format(t="Student", a="s")}, 'name', s.name, 'incidents', inc.j))
      ORDER BY s.name, s.id)
    FROM (SELECT id, name FROM students WHERE org_id = $1 AND class_code = $2
          ORDER BY name, id LIMIT 30) s
    CROSS JOIN LATERAL (SELECT json_build_object('edges', coalesce(json_agg(json_build_object(
        'node', json_build_object('id', {_ID.format(t="Incident", a="i")}, 'occurredAt',
        {_AT.format(a="i")}, 'kind', i.kind, 'category', i.category))
        ORDER BY i.occurred_at DESC, i.id DESC), '[]'::json)) AS j
      FROM (SELECT * FROM incidents WHERE org_id = $1 AND student_id = s.id
            ORDER BY occurred_at DESC, id DESC LIMIT 10) i) inc), '[]'::json))))::text"""

NODE_ROW = (
    "SELECT id, name, class_code, year_group, house_points, risk_tier FROM students "
    "WHERE org_id = $1 AND id = $2"
)
NODE_JSON = f"""
SELECT json_build_object('data', json_build_object('node', (SELECT json_build_object(
  '__typename', 'Student', 'id', {_ID.format(t="Student", a="s")}, 'name', s.name,
  'classCode', s.class_code, 'yearGroup', s.year_group, 'housePoints', s.house_points,
  'riskTier', s.risk_tier)
  FROM students s WHERE s.org_id = $1 AND s.id = $2)))::text"""


def global_id(type_name: str, raw: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw}".encode()).decode()


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class Floors:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None

    async def startup(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=60)

    async def shutdown(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def _read(self, org: uuid.UUID, work: Any) -> Any:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(SCOPE, str(org))
            return await work(conn)

    async def python_class(self, request: Request) -> Response:
        body = await request.json()
        org, cls = uuid.UUID(body["org"]), body["cls"]

        async def work(conn: asyncpg.Connection) -> bytes:
            students = await conn.fetch(CLASS_STUDENTS, org, cls)
            incidents = await conn.fetch(CLASS_INCIDENTS, org, [s["id"] for s in students])
            by_student: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
            for i in incidents:
                by_student[i["student_id"]].append(
                    {
                        "node": {
                            "id": global_id("Incident", i["id"]),
                            "occurredAt": instant(i["occurred_at"]),
                            "kind": i["kind"],
                            "category": i["category"],
                        }
                    }
                )
            edges = [
                {
                    "node": {
                        "id": global_id("Student", s["id"]),
                        "name": s["name"],
                        "incidents": {"edges": by_student.get(s["id"], [])},
                    }
                }
                for s in students
            ]
            return json.dumps({"data": {"students": {"edges": edges}}}).encode()

        return Response(await self._read(org, work), media_type="application/json")

    async def sql_class(self, request: Request) -> Response:
        body = await request.json()
        org = uuid.UUID(body["org"])

        async def work(conn: asyncpg.Connection) -> str:
            text: str = await conn.fetchval(CLASS_JSON, org, body["cls"])
            return text

        return Response(await self._read(org, work), media_type="application/json")

    async def python_node(self, request: Request) -> Response:
        body = await request.json()
        org = uuid.UUID(body["org"])

        async def work(conn: asyncpg.Connection) -> bytes:
            row = await conn.fetchrow(NODE_ROW, org, uuid.UUID(body["id"]))
            node = None
            if row is not None:
                node = {
                    "__typename": "Student",
                    "id": global_id("Student", row["id"]),
                    "name": row["name"],
                    "classCode": row["class_code"],
                    "yearGroup": row["year_group"],
                    "housePoints": row["house_points"],
                    "riskTier": row["risk_tier"],
                }
            return json.dumps({"data": {"node": node}}).encode()

        return Response(await self._read(org, work), media_type="application/json")

    async def sql_node(self, request: Request) -> Response:
        body = await request.json()
        org = uuid.UUID(body["org"])

        async def work(conn: asyncpg.Connection) -> str:
            text: str = await conn.fetchval(NODE_JSON, org, uuid.UUID(body["id"]))
            return text

        return Response(await self._read(org, work), media_type="application/json")

    async def log_incident(self, request: Request) -> Response:
        from bench.writes import raw_log_incident

        body = await request.json()
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            strike = await raw_log_incident(conn, uuid.UUID(body["org"]), uuid.UUID(body["id"]))
        return Response(json.dumps({"strikeLevel": strike}), media_type="application/json")


async def _ok(request: Request) -> Response:
    return Response("ok")


def create_floors(dsn: str) -> Starlette:
    floors = Floors(dsn)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await floors.startup()
        try:
            yield
        finally:
            await floors.shutdown()

    return Starlette(
        routes=[
            Route("/python/class", floors.python_class, methods=["POST"]),
            Route("/sql/class", floors.sql_class, methods=["POST"]),
            Route("/python/node", floors.python_node, methods=["POST"]),
            Route("/sql/node", floors.sql_node, methods=["POST"]),
            Route("/write/log-incident", floors.log_incident, methods=["POST"]),
            Route("/healthz", _ok),
        ],
        lifespan=lifespan,
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        create_floors(os.environ["DATABASE_URL"]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
    )
