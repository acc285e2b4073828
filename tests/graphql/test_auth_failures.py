"""When the token cannot be checked for a reason of ours, the caller is told so (503, an
errorId), not that their token is bad; and the rate limit holds on sockets too."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
import websockets

from app.config import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET, Org, Servers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here once the socket is closed


async def test_a_database_down_at_authentication_is_a_503_with_an_error_id(
    settings: Settings, servers: Servers, org: Org
) -> None:
    app = create_app(
        settings=settings,
        database_url=f"postgresql+asyncpg://u:p@127.0.0.1:{_closed_port()}/x",
        redis_url=servers.redis_url,
        jwt_secret=JWT_SECRET,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ me { sub } }"},
                headers={"Authorization": f"Bearer {org.token()}"},
            )
    assert response.status_code == 503
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "errorId" in error["message"]
    assert "127.0.0.1" not in response.text and "asyncpg" not in response.text


@asynccontextmanager
async def live_server(app: Any) -> AsyncIterator[str]:
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
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


async def test_the_rate_limit_counts_socket_operations(
    settings: Settings, servers: Servers, org: Org
) -> None:
    limited = settings.model_copy(update={"rate_limit": "2/minute"})
    app = create_app(
        settings=limited,
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        jwt_secret=JWT_SECRET,
    )
    token = org.token(sub="ws-rl-" + uuid.uuid4().hex)
    async with (
        app.router.lifespan_context(app),
        live_server(app) as url,
        websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws,  # type: ignore[list-item]
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        answers = []
        for i in range(3):
            await ws.send(
                json.dumps(
                    {"id": str(i), "type": "subscribe", "payload": {"query": "{ me { sub } }"}}
                )
            )
            message = json.loads(await ws.recv())
            if message["type"] == "next":
                assert json.loads(await ws.recv())["type"] == "complete"
            answers.append(message)
    assert [a["type"] for a in answers] == ["next", "next", "error"]
    assert answers[2]["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
