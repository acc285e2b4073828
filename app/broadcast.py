"""broadcaster with backends of ours (BROADCAST_URL: redis://, rediss://, postgres://, memory://).

broadcaster 0.3.1's own Redis backend can swallow a lost connection and leave its
subscribers waiting forever; its Postgres backend shares one connection between publishes
and listening; every subscriber gets an unbounded queue. So we keep its `Broadcast` API
and give it:
- backends that listen on a connection of their own, notice when it is lost (a read error,
  or no answer to a keep-alive ping), reconnect with backoff, resubscribe, and then wake
  every channel with `RECONNECTED` (what was published while away is in the event log, the
  truth; a broadcast is only a hint to go and read it). `connected` and the metric
  schoolgraph_broadcast_connected say whether the listener is up (/readyz reports it);
- bounded per-subscriber queues (`HintBroadcast`): a hint that finds a queue full is
  dropped and counted, never waited for, since the next one says the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as redis
from broadcaster import Broadcast, Event
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from broadcaster._base import Subscriber
from prometheus_client import Counter, Gauge

from app.db import asyncpg_dsn

log = logging.getLogger(__name__)

RECONNECTED = "reconnected"  # the message a backend sends on every channel after a reconnect

CONNECTED = Gauge(
    "schoolgraph_broadcast_connected", "1 while the broadcast listener is connected, else 0"
)
RECONNECTS = Counter(
    "schoolgraph_broadcast_reconnects_total", "Times the broadcast listener lost its connection"
)
HINTS_DROPPED = Counter(
    "schoolgraph_broadcast_hints_dropped_total",
    "Broadcast messages dropped because a subscriber's queue was full",
)


class _Listening(BroadcastBackend):
    """What our backends share: a listener task that reconnects, the channels to restore, and
    a bounded inbox of received messages."""

    def __init__(self, *, timeout: float, keepalive: float = 5.0, inbox: int = 10_000) -> None:
        self.timeout = timeout
        self.keepalive = keepalive
        self.channels: set[str] = set()
        self.connected = False
        self._inbox: asyncio.Queue[Event] = asyncio.Queue(maxsize=inbox)
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._was_up = False

    # -- to implement --------------------------------------------------------------------
    async def _listen(self) -> None:
        """Connect, subscribe to `self.channels`, call `_ready()`, then deliver messages with
        `_received` until the connection fails (raise)."""
        raise NotImplementedError

    async def _close_listener(self) -> None:
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------------------
    async def connect(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broadcast-listener")

    async def wait_connected(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._up.wait()
        return self.connected

    async def disconnect(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_listener()
        self._set(False)

    async def next_published(self) -> Event:
        return await self._inbox.get()

    def _received(self, channel: str, message: str) -> None:
        try:
            self._inbox.put_nowait(Event(channel, message))
        except asyncio.QueueFull:
            HINTS_DROPPED.inc()

    def _set(self, up: bool) -> None:
        self.connected = up
        CONNECTED.set(1 if up else 0)
        if up:
            self._up.set()
        else:
            self._up.clear()

    async def _subscribe_all(self, subscribe: Callable[[list[str]], Awaitable[Any]]) -> set[str]:
        """`subscribe` every channel of `self.channels` on a new connection, those added
        while it awaits included: until `_ready()`, `subscribe()` only records a channel, and
        nothing may await between the last look here and `_ready()`."""
        done: set[str] = set()
        while missing := [c for c in self.channels if c not in done]:
            await subscribe(missing)
            done.update(missing)
        return done

    def _ready(self) -> None:
        self._set(True)
        if self._was_up:  # what was published while we were away is in the log: read it
            for channel in list(self.channels):
                self._received(channel, RECONNECTED)
        self._was_up = True

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen()
                raise ConnectionError("listener ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    RECONNECTS.inc()
                    log.warning("broadcast: connection lost (%s); reconnecting", exc)
                    delay = 0.1
                self._set(False)
            with contextlib.suppress(Exception):
                await self._close_listener()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class RedisHints(_Listening):
    """Redis (or Valkey) pub/sub: publishes on a pool, listens on a connection of its own."""

    def __init__(self, url: str, *, timeout: float, keepalive: float = 5.0) -> None:
        super().__init__(timeout=timeout, keepalive=keepalive)
        self.url = url
        self._publisher = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._client: redis.Redis | None = None
        self._pubsub: Any = None

    async def _listen(self) -> None:
        # No socket timeout on the listener: silence is normal; the keep-alive ping below
        # is what tells a quiet connection from a dead one.
        self._client = redis.Redis.from_url(self.url, socket_connect_timeout=self.timeout)
        self._pubsub = pubsub = self._client.pubsub()
        # A channel of our own, so the connection is subscribed (and listening) even when no
        # one is following anything.
        await pubsub.subscribe("schoolgraph:broadcast:alive")
        done = await self._subscribe_all(lambda channels: pubsub.subscribe(*channels))
        self._ready()
        if dropped := done - self.channels:  # unsubscribed while we were subscribing
            await pubsub.unsubscribe(*dropped)
        silent_since = asyncio.get_running_loop().time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=self.keepalive / 2)
            now = asyncio.get_running_loop().time()
            if message is not None:
                silent_since, pinged = now, False
                if message["type"] == "message":
                    self._received(message["channel"].decode(), message["data"].decode())
                continue
            if now - silent_since < self.keepalive:
                continue
            if pinged:
                raise ConnectionError(f"no answer to a ping in {self.keepalive:.1f} s")
            await pubsub.ping()
            pinged = True
            silent_since = now - self.keepalive / 2  # answer within another half keep-alive

    async def _close_listener(self) -> None:
        pubsub, client, self._pubsub, self._client = self._pubsub, self._client, None, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        if self.connected and self._pubsub is not None:
            with contextlib.suppress(Exception):  # lost: the reconnect subscribes it
                await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        if self.connected and self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: Any) -> None:
        if not self.connected:
            # Fail at once rather than wait out a connect timeout on every mutation: the
            # listener is what finds out when the server is back.
            raise ConnectionError("broadcast server unreachable")
        await self._publisher.publish(channel, message)

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """Every (channel, message) in one round trip (a pipeline, not a transaction)."""
        if not self.connected:
            raise ConnectionError("broadcast server unreachable")
        async with self._publisher.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(channel, message)
            await pipe.execute()

    async def disconnect(self) -> None:
        await super().disconnect()
        await self._publisher.aclose()


def _pg_channel(channel: str) -> str:
    # Postgres channel names are identifiers of at most 63 bytes; ours hold two UUIDs.
    return "sg_" + hashlib.sha1(channel.encode()).hexdigest()


class PostgresHints(_Listening):
    """LISTEN/NOTIFY for single-database deployments: listens on a connection of its own,
    publishes through a small pool (asyncpg connections are not safe to share between
    concurrent publishes). NOTIFY serialises commits under many writers: not the default."""

    def __init__(self, url: str, *, timeout: float, keepalive: float = 5.0) -> None:
        super().__init__(timeout=timeout, keepalive=keepalive)
        self.dsn = asyncpg_dsn(url)
        self._names: dict[str, str] = {}  # Postgres channel -> ours
        self._conn: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()  # concurrent first publishes open one pool
        self._lost: asyncio.Event = asyncio.Event()

    def _on_notify(self, _conn: Any, _pid: int, pg_channel: str, payload: object) -> None:
        channel = self._names.get(pg_channel)
        if channel is not None:
            self._received(channel, str(payload))

    async def _listen(self) -> None:
        self._lost = asyncio.Event()
        conn = self._conn = await asyncpg.connect(self.dsn, timeout=self.timeout)
        conn.add_termination_listener(lambda _c: self._lost.set())

        async def listen(channels: list[str]) -> None:
            for channel in channels:
                await self._listen_to(channel)

        done = await self._subscribe_all(listen)
        self._ready()
        for channel in done - self.channels:  # unsubscribed while we were listening
            await conn.remove_listener(_pg_channel(channel), self._on_notify)
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.keepalive):
                    await self._lost.wait()
            if self._lost.is_set():
                raise ConnectionError("listener connection closed")
            await conn.fetchval("SELECT 1", timeout=self.timeout)  # raises when it is gone

    async def _listen_to(self, channel: str) -> None:
        pg = _pg_channel(channel)
        self._names[pg] = channel
        if self._conn is not None:
            await self._conn.add_listener(pg, self._on_notify)

    async def _close_listener(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), self.timeout)

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        if self.connected:
            with contextlib.suppress(Exception):
                await self._listen_to(channel)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        pg = _pg_channel(channel)
        self._names.pop(pg, None)
        if self.connected and self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.remove_listener(pg, self._on_notify)

    async def publish(self, channel: str, message: Any) -> None:
        if not self.connected:
            raise ConnectionError("broadcast database unreachable")
        pool = self._pool or await self._open_pool()
        await pool.execute(
            "SELECT pg_notify($1, $2)", _pg_channel(channel), str(message), timeout=self.timeout
        )

    async def _open_pool(self) -> asyncpg.Pool:
        # After-commit steps publish from tasks of their own: the first ones arrive together.
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=2, timeout=self.timeout
                )
            return self._pool

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """Every (channel, message) in one statement."""
        for channel, message in messages[:1]:
            await self.publish(channel, message)  # opens the pool, or fails fast
        if len(messages) > 1:
            assert self._pool is not None
            await self._pool.execute(
                "SELECT pg_notify(c, m) FROM unnest($1::text[], $2::text[]) AS u(c, m)",
                [_pg_channel(c) for c, _ in messages[1:]],
                [m for _, m in messages[1:]],
                timeout=self.timeout,
            )

    async def disconnect(self) -> None:
        await super().disconnect()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class MemoryHints(MemoryBackend):
    """In one process only (unit tests): nothing to lose, always connected."""

    connected = True

    async def wait_connected(self, seconds: float) -> bool:
        return True


class HintBroadcast(Broadcast):
    """broadcaster's Broadcast with bounded subscriber queues: a message that finds one full
    is dropped (and counted), never waited for."""

    def __init__(self, backend: BroadcastBackend, *, queue_size: int = 1000) -> None:
        super().__init__(backend=backend)
        self.backend = backend
        self.queue_size = queue_size

    @property
    def connected(self) -> bool:
        return bool(getattr(self.backend, "connected", False))

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """Every (channel, message) at once where the backend can (ours: one round trip),
        else one by one."""
        many = getattr(self.backend, "publish_many", None)
        if many is not None:
            await many(messages)
            return
        for channel, message in messages:
            await self.publish(channel, message)

    async def wait_connected(self, seconds: float) -> bool:
        """Whether the listener is up, waiting at most `seconds` for it (a server that is
        down is retried in the background meanwhile)."""
        wait = getattr(self.backend, "wait_connected", None)
        return bool(await wait(seconds)) if wait is not None else self.connected

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            for queue in list(self._subscribers.get(event.channel, ())):
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    HINTS_DROPPED.inc()

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=self.queue_size)
        subscribers = self._subscribers.setdefault(channel, set())
        first = not subscribers
        subscribers.add(queue)
        try:
            if first:
                await self._backend.subscribe(channel)
            yield Subscriber(queue)
        finally:
            subscribers.discard(queue)
            if not subscribers and self._subscribers.get(channel) is subscribers:
                del self._subscribers[channel]
                with contextlib.suppress(Exception):
                    await self._backend.unsubscribe(channel)


def hint_broadcast(url: str, *, timeout: float) -> HintBroadcast:
    """The Broadcast for BROADCAST_URL (redis://, rediss://, postgres://, memory://)."""
    scheme = urlsplit(url).scheme
    backend: BroadcastBackend
    if scheme in {"redis", "rediss"}:
        backend = RedisHints(url, timeout=timeout)
    elif scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        backend = PostgresHints(url, timeout=timeout)
    elif scheme == "memory":
        log.warning("BROADCAST_URL=memory:// reaches this process only (meant for tests)")
        backend = MemoryHints(url)
    else:
        raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r}")
    return HintBroadcast(backend)
