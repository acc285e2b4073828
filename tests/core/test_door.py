"""At the door: body size, headers, request ids and the request log, readiness that answers
in time, the statement timeout, the rate limit, and the GraphiQL/introspection switches."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import Database
from app.logs import configure_logging
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers
from tests.factories import make_student
from tests.support import client_for

LOG = """mutation($input: LogIncidentInput!) { logIncident(input: $input) {
    incident { id } errors { field code } } }"""


async def test_body_over_the_limit_is_refused_before_parsing(gql: GraphQLClient) -> None:
    big = b'{"query": "{ me { sub } }", "padding": "' + b"x" * (1_048_576 + 10) + b'"}'
    response = await gql.http.post(
        "/graphql", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(40):
            yield b"x" * 65_536

    response = await gql.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_body_under_the_limit_is_served(gql: GraphQLClient, org: Org) -> None:
    body = {"query": "{ me { sub } }", "padding": "x" * 900_000}
    response = await gql.http.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {org.token()}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["sub"] == "tester"


async def test_security_headers_and_request_id(gql: GraphQLClient, org: Org) -> None:
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ me { sub } }"},
        headers={"Authorization": f"Bearer {org.token()}", "X-Request-ID": "abc-123"},
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-request-id"] == "abc-123"
    # An id that could forge log lines is replaced by one of ours.
    response = await gql.http.get("/healthz", headers={"X-Request-ID": "a b\nc"})
    assert (
        response.headers["x-request-id"] != "a b\nc" and len(response.headers["x-request-id"]) == 32
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in response.headers


async def test_request_log_has_who_and_what_but_no_data(
    gql: GraphQLClient, db: Database, org: Org, captured_log: io.StringIO
) -> None:
    student = await make_student(db, org, name="Zebedee Quartermaine")
    note = "note-" + uuid.uuid4().hex
    from app.graphql.relay import to_global_id

    variables = {
        "input": {
            "studentId": to_global_id("Student", student.id),
            "kind": "NEGATIVE",
            "category": "late",
            "note": note,
        }
    }
    response = await gql.http.post(
        "/graphql",
        json={"query": "mutation Tap" + LOG.removeprefix("mutation"), "variables": variables},
        headers={"Authorization": f"Bearer {org.token(Role.TEACHER)}", "X-Request-ID": "req-42"},
    )
    assert response.json()["data"]["logIncident"]["errors"] == []
    # A role refusal with the note written inline: the refusal must not log the document.
    await gql.http.post(
        "/graphql",
        json={
            "query": 'mutation { updateOrgPolicy(input: {strikes: {rungs: [{consequence: "'
            + note
            + '"}]}}) { errors { code } } }'
        },
        headers={"Authorization": f"Bearer {org.token(Role.AIDE)}"},
    )
    # A GET with the note in its query string.
    await gql.http.get(
        "/graphql",
        params={
            "query": '{ students(filter: {nameContains: "' + note + '"}) { edges { cursor } } }'
        },
        headers={"Authorization": f"Bearer {org.token()}"},
    )
    logged = captured_log.getvalue()
    assert note not in logged
    assert "Zebedee" not in logged
    line = next(ln for ln in logged.splitlines() if "request_id=req-42" in ln)
    for part in (
        "operation=Tap",
        "operation_type=mutation",
        f"org={org.slug}",
        "role=TEACHER",
        "status=200",
        "duration_ms=",
    ):
        assert part in line, (part, line)
    # The refused and the GET requests were logged too (so "no note" above means something).
    lines = logged.splitlines()
    assert any("role=AIDE" in ln and "method=POST" in ln and "error_codes=" in ln for ln in lines)
    assert any("role=ADMIN" in ln and "method=GET" in ln and "status=200" in ln for ln in lines)


def test_json_log_lines_parse() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("json")
        handler = next(h for h in root.handlers if h.get_name() == "schoolgraph")
        handler.setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("schoolgraph.request").info(
            "request", extra={"request_id": "r1", "status": 200}
        )
    finally:  # the tests after this one log as they did before it
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["message"] == "request" and record["request_id"] == "r1"
    assert record["level"] == "INFO" and "time" in record


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts and never answers, as a SIGSTOPped Valkey or Postgres does."""
    writers: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(65_536):  # read everything, answer nothing
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def test_readyz_answers_503_in_time_when_redis_hangs(
    settings: Settings, servers: Servers
) -> None:
    async with (
        silent_server() as port,
        client_for(settings, servers, redis_url=f"redis://127.0.0.1:{port}/0") as http,
    ):
        # Unbounded, this request would hang until the test's timeout fails it.
        response = await http.get("/readyz")
    assert response.status_code == 503
    # "timeout", not "unreachable": the probe's own bound answered.
    assert response.json()["checks"] == {
        "database": "ok",
        "redis": "timeout",
        "broadcast": "unreachable",
    }


async def test_readyz_answers_503_in_time_when_postgres_hangs(
    settings: Settings, servers: Servers
) -> None:
    async with (
        silent_server() as port,
        client_for(
            settings, servers, database_url=f"postgresql+asyncpg://u:p@127.0.0.1:{port}/x"
        ) as http,
    ):
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "timeout", "redis": "ok", "broadcast": "ok"}


async def test_statement_timeout_cancels_a_runaway_statement(servers: Servers) -> None:
    db = Database.connect(Settings(db_statement_timeout_ms=200), servers.database_url)
    try:
        with pytest.raises(DBAPIError, match="statement timeout"):
            async with db.transaction(None) as session:
                await session.execute(text("SELECT pg_sleep(2)"))
        async with db.transaction(None) as session:  # the next transaction is unaffected
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await db.dispose()


async def test_rate_limit_answers_429_with_retry_after(
    settings: Settings, servers: Servers, org: Org
) -> None:
    limited = settings.model_copy(update={"rate_limit": "3/minute"})
    query = {"query": "{ me { sub } }"}
    async with client_for(limited, servers) as http:
        sub = "rl-" + uuid.uuid4().hex
        headers = {"Authorization": f"Bearer {org.token(sub=sub)}"}
        statuses = [
            (await http.post("/graphql", json=query, headers=headers)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 200]
        response = await http.post("/graphql", json=query, headers=headers)
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Another subject has a window of its own.
        other = {"Authorization": f"Bearer {org.token(sub=sub + '-b')}"}
        assert (await http.post("/graphql", json=query, headers=other)).status_code == 200


async def test_rate_limit_lets_requests_through_when_redis_hangs(
    settings: Settings, servers: Servers, org: Org
) -> None:
    limited = settings.model_copy(update={"rate_limit": "1/minute"})
    async with (
        silent_server() as port,
        client_for(limited, servers, redis_url=f"redis://127.0.0.1:{port}/0") as http,
    ):
        headers = {"Authorization": f"Bearer {org.token()}"}
        for _ in range(2):
            response = await http.post(
                "/graphql", json={"query": "{ me { sub } }"}, headers=headers
            )
            assert response.status_code == 200


async def test_graphiql_and_introspection_can_be_switched_off(
    settings: Settings, servers: Servers, org: Org
) -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    headers = {"Authorization": f"Bearer {org.token()}"}
    async with client_for(settings, servers) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        body = (await http.post("/graphql", json=introspect, headers=headers)).json()
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    closed = settings.model_copy(update={"graphiql": False, "introspection": False})
    async with client_for(closed, servers) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        body = (await http.post("/graphql", json=introspect, headers=headers)).json()
        assert "introspection" in body["errors"][0]["message"].lower()
        body = (
            await http.post("/graphql", json={"query": "{ me { sub } }"}, headers=headers)
        ).json()
        assert body["data"]["me"]["sub"] == "tester"
