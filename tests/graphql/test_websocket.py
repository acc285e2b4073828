"""WebSockets over a real uvicorn server on loopback: clients authenticate in connection_init
(graphql-transport-ws), a socket lives no longer than its token (close 4403, renew by
reconnecting), every operation reads fresh data, and an oversized message closes with 1009."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
import websockets

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.graphql.context import Context
from app.graphql.sockets import TOKEN_EXPIRED, TransportWSHandler
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, GraphQLClient, Org
from tests.support import live_server

PROTOCOL = "graphql-transport-ws"
LEGACY_PROTOCOL = "graphql-ws"
STUDENT_NAME = "query($id: ID!) { student(id: $id) { name } }"
UPSERT = """mutation($input: UpsertStudentInput!) {
  upsertStudent(input: $input) { student { id } errors { code } } }"""


@pytest.fixture(scope="module")
async def live_url(app: Any) -> AsyncIterator[str]:
    async with live_server(app) as port:
        yield f"ws://127.0.0.1:{port}/graphql"


def short_token(org: Org, seconds: int, sub: str = "ws-user") -> tuple[str, float]:
    """A token whose `exp` is `seconds` whole seconds away (JWT times are whole seconds)."""
    exp = int(time.time()) + seconds
    payload = {"sub": sub, "org": org.slug, "role": "TEACHER", "iat": int(time.time()), "exp": exp}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256"), float(exp)


async def connect(live_url: str, token: str, protocol: str = PROTOCOL) -> Any:
    ws = await websockets.connect(live_url, subprotocols=[protocol])  # type: ignore[list-item]
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def run(ws: Any, op_id: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    await ws.send(
        json.dumps(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
    )
    message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    assert json.loads(await ws.recv()) == {"id": op_id, "type": "complete"}
    return message["payload"]


async def close_code(ws: Any) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:  # anything still in flight, then the close
            await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_connection_init_with_token(live_url: str, org: Org) -> None:
    ws = await connect(live_url, org.token(Role.TEACHER, sub="ws-user"))
    async with ws:
        payload = await run(ws, "1", "{ me { sub role } }")
        assert payload["data"]["me"] == {"sub": "ws-user", "role": "TEACHER"}


async def test_connection_init_without_token_is_rejected(live_url: str) -> None:
    async with websockets.connect(live_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await close_code(ws))[0] == 4403


async def test_socket_closes_with_4403_when_its_token_expires(live_url: str, org: Org) -> None:
    token, exp = short_token(org, 2)
    ws = await connect(live_url, token)
    async with ws:
        assert (await run(ws, "1", "{ me { sub } }"))["data"]["me"]["sub"] == "ws-user"
        code, reason = await close_code(ws)  # no message from us: the server closes it
    assert (code, reason) == (4403, TOKEN_EXPIRED)
    assert time.time() >= exp - 0.05


async def test_operation_after_expiry_is_refused_and_a_new_socket_renews(
    live_url: str, org: Org
) -> None:
    token, exp = short_token(org, 2)
    ws = await connect(live_url, token)
    async with ws:
        await asyncio.sleep(max(0.0, exp - time.time()) + 0.1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.send(
                json.dumps(
                    {"id": "late", "type": "subscribe", "payload": {"query": "{ me { sub } }"}}
                )
            )
            await asyncio.wait_for(ws.recv(), timeout=5)  # never a `next`
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    renewed = await connect(live_url, org.token(Role.TEACHER, sub="ws-user"))
    async with renewed:
        assert (await run(renewed, "1", "{ me { sub } }"))["data"]["me"]["sub"] == "ws-user"


async def test_legacy_protocol_socket_closes_when_its_token_expires(
    live_url: str, org: Org
) -> None:
    token, _ = short_token(org, 2)
    ws = await connect(live_url, token, LEGACY_PROTOCOL)
    async with ws:
        assert await close_code(ws) == (4403, TOKEN_EXPIRED)


async def test_expired_token_refuses_an_operation_before_it_runs(
    db: Database, settings: Settings, org: Org
) -> None:
    """The per-operation check, apart from the timer that usually closes the socket first."""

    class Socket:
        closed: tuple[int, str] | None = None

        async def close(self, code: int, reason: str) -> None:
            self.closed = (code, reason)

    expired = Principal(
        sub="x", role=Role.TEACHER, org_id=org.id, org_slug=org.slug, expires_at=time.time() - 1
    )
    websocket = Socket()
    handler = TransportWSHandler(
        view=None,  # type: ignore[arg-type]
        websocket=websocket,  # type: ignore[arg-type]
        context=Context(db=db, settings=settings, principal=expired),
        root_value=None,
        schema=None,  # type: ignore[arg-type]
        connection_init_wait_timeout=timedelta(seconds=5),
    )
    handler.connection_acknowledged = True
    await handler.handle_subscribe(
        {"id": "1", "type": "subscribe", "payload": {"query": "{ me { sub } }"}}
    )
    assert websocket.closed == (4403, TOKEN_EXPIRED)
    assert handler.operations == {}


async def test_each_operation_reads_what_http_committed_since(
    live_url: str, gql: GraphQLClient, org: Org
) -> None:
    token = org.token()
    student = {"externalId": "WS-1", "name": "Before Rename", "classCode": "7A"}
    body = await gql(UPSERT, {"input": student}, token=token)
    sid = body["data"]["upsertStudent"]["student"]["id"]
    ws = await connect(live_url, token)
    async with ws:
        first = await run(ws, "1", STUDENT_NAME, {"id": sid})
        assert first["data"]["student"]["name"] == "Before Rename"
        renamed = await gql(UPSERT, {"input": {**student, "name": "After Rename"}}, token=token)
        assert renamed["data"]["upsertStudent"]["errors"] == []
        second = await run(ws, "2", STUDENT_NAME, {"id": sid})
        assert second["data"]["student"]["name"] == "After Rename"
        # The id may be reused once completed, and still reads afresh.
        again = await run(ws, "1", STUDENT_NAME, {"id": sid})
        assert again["data"]["student"]["name"] == "After Rename"


async def test_oversized_message_closes_with_1009(live_url: str, org: Org) -> None:
    ws = await connect(live_url, org.token())
    async with ws:
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "#" + "x" * 1_100_000}}
            )
        )
        assert (await close_code(ws))[0] == 1009
