"""BROADCAST_URL=postgres://: the hints go by LISTEN/NOTIFY on the database itself. With the
feeds' timer set far beyond the waits below, an event can only reach a subscriber through a
hint: one published after commit, concurrent ones all (in log order, once each), and again
after the listener's connection is killed and it has reconnected by itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from app.broadcast import RECONNECTED, HintBroadcast, PostgresHints, hint_broadcast
from app.config import Settings
from app.db import Database
from app.events.live import LiveHub
from app.events.service import decode_since
from app.graphql.relay import to_global_id
from app.metrics import PUBLISH_FAILURES
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import log, make_student
from tests.live.conftest import following
from tests.live.wsclient import Subscription
from tests.support import app_with, live_server

FEED = """subscription { incidentLogged { id incident { id } } }"""

POLL_SECONDS = 60.0  # the timer never fires within a test: delivery is the hint's
WAIT = 10.0


@dataclass
class Served:
    app: Any
    ws_url: str

    @property
    def db(self) -> Database:
        """The app's Database: its commits publish their hints."""
        db: Database = self.app.state.services.db
        return db

    @property
    def hub(self) -> LiveHub:
        hub: LiveHub = self.app.state.services.live
        return hub

    @property
    def backend(self) -> PostgresHints:
        backend = self.hub.broadcast.backend
        assert isinstance(backend, PostgresHints)
        return backend


def _postgres_url(servers: Servers) -> str:
    return servers.database_url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def served(servers: Servers) -> AsyncIterator[Served]:
    url = _postgres_url(servers)
    assert url.startswith("postgresql://")
    settings = Settings(jwt_secret=JWT_SECRET, broadcast_url=url, live_poll_seconds=POLL_SECONDS)
    async with app_with(settings, servers) as app, live_server(app) as port:
        yield Served(app, f"ws://127.0.0.1:{port}/graphql")


async def _until(condition: Any, seconds: float = WAIT) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


class _HeldListen(PostgresHints):
    """Its LISTEN of "old" waits, once `hold` is set, until the test releases it: the
    reconnect's pass is caught in the middle, every time."""

    def __init__(self, url: str, *, timeout: float) -> None:
        super().__init__(url, timeout=timeout)
        self.hold: asyncio.Event | None = None
        self.holding = asyncio.Event()

    async def _listen_to(self, channel: str) -> None:
        if self.hold is not None and channel == "old":
            self.holding.set()
            await self.hold.wait()
        await super()._listen_to(channel)


def test_postgres_urls_make_a_postgres_backend_and_other_schemes_are_refused() -> None:
    for url in ("postgres://u:p@db.example.org:5433/school", "postgresql://u@localhost/school"):
        broadcast = hint_broadcast(url, timeout=1.0)
        assert isinstance(broadcast, HintBroadcast)
        assert isinstance(broadcast.backend, PostgresHints), url
        assert broadcast.backend.dsn.startswith("postgresql://")
        assert not broadcast.connected  # nothing connects before the app starts
    with pytest.raises(ValueError, match=r"BROADCAST_URL: unsupported scheme 'kafka'"):
        hint_broadcast("kafka://broker:9092", timeout=1.0)


async def test_an_incident_reaches_a_subscriber_through_notify(served: Served, org: Org) -> None:
    assert served.hub.connected
    student = await make_student(served.db, org)
    sub = await Subscription.open(served.ws_url, org.token(Role.TEACHER), FEED)
    try:
        await following(served.hub, org.id)
        incident = await log(served.db, org, student.id)
        got = (await sub.data(wait=WAIT))["incidentLogged"]
        assert got["incident"]["id"] == to_global_id("Incident", incident.id)
        await sub.quiet(0.3)
    finally:
        await sub.close()


async def test_concurrent_publishes_all_arrive_in_log_order_once(served: Served, org: Org) -> None:
    students = [await make_student(served.db, org) for _ in range(5)]
    sub = await Subscription.open(served.ws_url, org.token(Role.TEACHER), FEED)
    try:
        await following(served.hub, org.id)
        failures = PUBLISH_FAILURES._value.get()
        logged = await asyncio.gather(*(log(served.db, org, s.id) for s in students))
        assert PUBLISH_FAILURES._value.get() == failures  # every NOTIFY went out
        seen = [(await sub.data(wait=WAIT))["incidentLogged"] for _ in logged]
        assert sorted(s["incident"]["id"] for s in seen) == sorted(
            to_global_id("Incident", i.id) for i in logged
        )
        positions = [decode_since(s["id"]) for s in seen]
        assert positions == sorted(set(positions))  # the log's order, each once
        await sub.quiet(0.5)
    finally:
        await sub.close()


async def test_the_listener_reconnects_after_its_connection_is_killed(
    served: Served, servers: Servers, org: Org
) -> None:
    student = await make_student(served.db, org)
    token = org.token(Role.TEACHER)
    before = await Subscription.open(served.ws_url, token, FEED)
    try:
        await following(served.hub, org.id)
        listener = served.backend._conn
        assert listener is not None and served.hub.connected
        pid = listener.get_server_pid()

        admin = await asyncpg.connect(_postgres_url(servers))
        try:
            query = await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
            assert query is not None and (query.startswith("LISTEN") or query == "SELECT 1")
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

        await _until(lambda: not served.hub.connected)  # it noticed
        await _until(lambda: served.hub.connected)  # and is back by itself
        reconnected = served.backend._conn
        assert reconnected is not None and reconnected.get_server_pid() != pid
        await asyncio.sleep(0.3)  # the reconnect's own wake-up read is over: what comes is a hint

        after = await Subscription.open(served.ws_url, token, FEED)
        try:
            await following(served.hub, org.id, subscribers=2)
            incident = await log(served.db, org, student.id)
            expected = to_global_id("Incident", incident.id)
            # The subscriber from before the loss (its channel listened to again) and a new one.
            for sub in (before, after):
                got = (await sub.data(wait=WAIT))["incidentLogged"]
                assert got["incident"]["id"] == expected
        finally:
            await after.close()
    finally:
        await before.close()


async def test_a_channel_subscribed_while_the_listener_reconnects_is_listened_to(
    servers: Servers,
) -> None:
    """While a new connection LISTENs to the channels it had (one round trip each), a
    channel subscribed meanwhile must be listened to as well before the backend calls
    itself connected: otherwise its hints are lost until the next reconnect."""
    backend = _HeldListen(_postgres_url(servers), timeout=2.0)
    await backend.connect()
    try:
        assert await backend.wait_connected(WAIT)
        await backend.subscribe("old")
        old = backend._conn
        assert old is not None
        backend.hold = asyncio.Event()  # the next LISTEN of "old" waits until released
        admin = await asyncpg.connect(_postgres_url(servers))
        try:
            await admin.fetchval("SELECT pg_terminate_backend($1)", old.get_server_pid())
        finally:
            await admin.close()
        # The new connection is open and LISTENing to the old channels: not yet connected.
        async with asyncio.timeout(WAIT):
            await backend.holding.wait()
        assert not backend.connected
        await backend.subscribe("new")
        backend.hold.set()
        await _until(lambda: backend.connected)
        await backend.publish("new", "hello")
        async with asyncio.timeout(WAIT):  # every channel also hears RECONNECTED first
            while True:
                event = await backend.next_published()
                if event.channel == "new" and event.message != RECONNECTED:
                    break
        assert event.message == "hello"
    finally:
        await backend.disconnect()


async def test_concurrent_first_publishes_open_one_pool_and_disconnect_closes_it(
    servers: Servers,
) -> None:
    # Commits' hints are published by tasks of their own (Database._committed): the first
    # ones after start-up arrive together. Each used to open a publish pool, the last one
    # kept: the others' connections were never closed.
    name = "hints-pool-test"
    backend = PostgresHints(f"{_postgres_url(servers)}?application_name={name}", timeout=5.0)
    admin = await asyncpg.connect(_postgres_url(servers))
    try:
        await backend.connect()
        assert await backend.wait_connected(WAIT)
        await asyncio.gather(*(backend.publish(f"c{i}", "m") for i in range(8)))
        await backend.disconnect()
        count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
        for _ in range(200):  # a closed connection's backend takes a moment to exit
            if await admin.fetchval(count, name) == 0:
                break
            await asyncio.sleep(0.01)
        assert await admin.fetchval(count, name) == 0
    finally:
        await admin.close()
