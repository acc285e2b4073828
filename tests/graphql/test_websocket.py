"""WebSocket clients authenticate in connection_init (graphql-transport-ws), over a real
uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
import websockets

from app.orgs.models import Role
from tests.conftest import Org

PROTOCOL = "graphql-transport-ws"


@pytest.fixture(scope="module")
async def live_url(app: Any) -> AsyncIterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no "started" event to await
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    await task


async def test_connection_init_with_token(live_url: str, org: Org) -> None:
    token = org.token(Role.TEACHER, sub="ws-user")
    async with websockets.connect(live_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ me { sub role } }"}}
            )
        )
        message = json.loads(await ws.recv())
        assert message["type"] == "next", message
        assert message["payload"]["data"]["me"] == {"sub": "ws-user", "role": "TEACHER"}


async def test_connection_init_without_token_is_rejected(live_url: str) -> None:
    async with websockets.connect(live_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
