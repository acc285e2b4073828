"""When the token cannot be checked for a reason of ours, the caller is told so (503, an
errorId), not that their token is bad; and the rate limit holds on sockets too."""

from __future__ import annotations

import json
import socket
import uuid

import websockets

from app.config import Settings
from tests.conftest import Org, Servers
from tests.support import app_with, client_for, live_server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here once the socket is closed


async def test_a_database_down_at_authentication_is_a_503_with_an_error_id(
    settings: Settings, servers: Servers, org: Org
) -> None:
    down = f"postgresql+asyncpg://u:p@127.0.0.1:{_closed_port()}/x"
    async with client_for(settings, servers, database_url=down) as http:
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


async def test_the_rate_limit_counts_socket_operations(
    settings: Settings, servers: Servers, org: Org
) -> None:
    limited = settings.model_copy(update={"rate_limit": "2/minute"})
    token = org.token(sub="ws-rl-" + uuid.uuid4().hex)
    async with (
        app_with(limited, servers) as app,
        live_server(app) as port,
        websockets.connect(  # type: ignore[call-overload]
            f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
        ) as ws,
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
