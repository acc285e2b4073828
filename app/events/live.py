"""Live delivery of the event log: publishing hints after commit, and the feeds subscribers
share.

- `Publisher` runs after every commit that wrote events (Database.after_commit) and
  publishes one hint per channel the transaction touched: the org's school channel, and the
  year group, class and student channels of its events (`sg:<org>:wide` for events of the
  whole school). A failed publish is logged and counted, never raised: the mutation has
  committed, and subscribers catch up from the log.
- A `Feed` is what one process follows for one (org, scope): it subscribes to the scope's
  channels, then reads the log from "now" on each hint, in log order and only below the
  horizon (app.events.service.read_after), so it never skips an event that commits late. It
  hands every event to all its followers: one read per event however many follow it. It
  also reads on a timer (LIVE_POLL_SECONDS), so a lost broadcast delays an event, never
  loses it.
- `LiveHub.follow` is a subscription's stream: it joins the feed first, then replays from
  `since`, then takes the feed's events, skipping what the replay already gave: no gap, no
  duplicate. Each follower has a bounded queue; one that overflows is ended with
  SUBSCRIPTION_OVERFLOW, telling the client to resume with `since`.
- A `Board` computes a scope's dashboard snapshot once per coalescing window for every
  subscriber of it (app.dashboard.service), and keeps only the latest for a slow one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from app.broadcast import RECONNECTED, HintBroadcast, hint_broadcast
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.events.service import (
    WRITTEN,
    EventRow,
    EventScope,
    Position,
    Written,
    decode_since,
    head,
    read_after,
    replay,
)
from app.metrics import (
    EVENTS_PUBLISHED,
    EVENTS_WRITTEN,
    FEED_READS,
    LIVE_FEEDS,
    OVERFLOWS,
    PUBLISH_FAILURES,
    REPLAYED,
)

log = logging.getLogger(__name__)

PAGE = 500  # events per read of the log


# -- channels ------------------------------------------------------------------------------


def _channel(org_id: uuid.UUID, *key: object) -> str:
    return ":".join(("sg", str(org_id), *(str(k) for k in key)))


def channels_of(event: Written) -> list[str]:
    """The channels an event's hint goes to: the school's, and each scope key's."""
    found = [_channel(event.org_id)]
    if event.year_group is not None:
        found.append(_channel(event.org_id, "y", event.year_group))
    if event.class_code is not None:
        found.append(_channel(event.org_id, "c", event.class_code))
    if event.student_id is not None:
        found.append(_channel(event.org_id, "s", event.student_id))
    if event.import_job_id is not None:
        found.append(_channel(event.org_id, "i", event.import_job_id))
    if len(found) == 1:
        found.append(_channel(event.org_id, "wide"))  # reaches every scope
    return found


def channels_for(org_id: uuid.UUID, scope: EventScope) -> list[str]:
    """What a feed of `scope` listens to: its most specific key's channel and the events of
    the whole school; the school's own channel for the whole school."""
    if scope.import_job_id is not None:
        return [_channel(org_id, "i", scope.import_job_id)]
    if scope.student_id is not None:
        return [_channel(org_id, "s", scope.student_id), _channel(org_id, "wide")]
    if scope.class_code is not None:
        return [_channel(org_id, "c", scope.class_code), _channel(org_id, "wide")]
    if scope.year_group is not None:
        return [_channel(org_id, "y", scope.year_group), _channel(org_id, "wide")]
    return [_channel(org_id)]


def _hint(message: str) -> Position | None:
    txid, _, event_id = message.partition(":")
    try:
        return Position(int(txid), int(event_id))
    except ValueError:
        return None  # RECONNECTED, or a message of someone else's: read anyway


class Publisher:
    """After a commit: one hint per channel the transaction's events touched."""

    def __init__(self, broadcast: HintBroadcast, *, timeout: float) -> None:
        self.broadcast = broadcast
        self.timeout = timeout

    async def __call__(self, info: dict[Any, Any]) -> None:
        written: list[Written] | None = info.pop(WRITTEN, None)
        if not written:
            return
        latest: dict[str, Position] = {}
        for event in written:
            EVENTS_WRITTEN.labels(event.topic).inc()
            for channel in channels_of(event):
                latest[channel] = max(latest.get(channel, event.position), event.position)
        messages = [(c, f"{p.txid}:{p.id}") for c, p in latest.items()]
        try:
            # One round trip however many channels: an import's batch touches a thousand.
            async with asyncio.timeout(self.timeout):
                await self.broadcast.publish_many(messages)
            EVENTS_PUBLISHED.inc(len(messages))
        except Exception as exc:
            PUBLISH_FAILURES.inc(len(messages))
            log.warning("%d event hints not published: %s", len(messages), type(exc).__name__)


def publish_commits(db: Database, url: str, *, timeout: float) -> HintBroadcast:
    """The broadcast of BROADCAST_URL, with `db`'s commits publishing their events' hints on
    it: the API's and the worker's alike (connect it before use, disconnect at the end)."""
    broadcast = hint_broadcast(url, timeout=timeout)
    db.after_commit.append(Publisher(broadcast, timeout=timeout))
    return broadcast


# -- deliveries and followers -------------------------------------------------------------


@dataclass(eq=False)
class Delivery:
    """One event as a feed's followers get it. `shared` is for what they all need of it and
    should compute once (the GraphQL layer keeps its loaders and results there)."""

    event: EventRow
    shared: dict[Any, Any] = field(default_factory=dict)

    @property
    def cursor(self) -> str:
        return self.event.cursor


class _Overflow:
    pass


OVERFLOW = _Overflow()

T = TypeVar("T")


def overflowed(size: int) -> ServiceError:
    return ServiceError.single(
        "since",
        f"this subscription fell more than {size} events behind and was ended: subscribe "
        "again with since set to the last id you received",
        ErrorCode.SUBSCRIPTION_OVERFLOW,
    )


class Follower(Generic[T]):
    """A subscriber's bounded queue. Full, it is ended with OVERFLOW (the client resumes
    with `since`) instead of holding more."""

    def __init__(self, size: int, accepts: Callable[[T], bool] | None = None) -> None:
        self.size = size
        self.accepts = accepts
        self.queue: asyncio.Queue[T | _Overflow] = asyncio.Queue()
        self.ended = False

    def offer(self, item: T) -> None:
        if self.ended or (self.accepts is not None and not self.accepts(item)):
            return
        if self.queue.qsize() >= self.size:
            self.ended = True
            OVERFLOWS.inc()
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)
            return
        self.queue.put_nowait(item)

    async def get(self) -> T:
        item = await self.queue.get()
        if isinstance(item, _Overflow):
            raise overflowed(self.size)
        return item


# -- feeds --------------------------------------------------------------------------------


class Feed:
    """One (org, scope) as this process follows it; see the module's docstring."""

    def __init__(self, hub: LiveHub, org_id: uuid.UUID, scope: EventScope) -> None:
        self.hub = hub
        self.org_id = org_id
        self.scope = scope
        self.followers: set[Follower[Delivery]] = set()
        self.position: Position | None = None
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wake = asyncio.Event()
        self._hinted: Position | None = None
        self.task = asyncio.create_task(self._run(), name=f"feed:{org_id}:{scope}")

    async def _hear(self, subscriber: Any) -> None:
        async for event in subscriber:
            if event.message != RECONNECTED and (hinted := _hint(event.message)) is not None:
                self._hinted = max(self._hinted or hinted, hinted)
            self._wake.set()

    async def _run(self) -> None:
        hub = self.hub
        try:
            async with contextlib.AsyncExitStack() as stack:
                listeners = []
                # Subscribed before the log is read: a hint of anything after "now" is heard.
                for channel in channels_for(self.org_id, self.scope):
                    subscriber = await stack.enter_async_context(hub.broadcast.subscribe(channel))
                    listeners.append(asyncio.create_task(self._hear(subscriber)))
                stack.callback(lambda: [t.cancel() for t in listeners])
                self.position = head(
                    await read_after(hub.db, org_id=self.org_id, after=None, limit=0)
                )
                self.started.set_result(None)
                LIVE_FEEDS.inc()
                try:
                    await self._follow()
                finally:
                    LIVE_FEEDS.dec()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self.started.done():
                self.started.set_exception(exc)
            raise

    async def _follow(self) -> None:
        hub, backoff = self.hub, 0.0
        while True:
            # Waiting on a transaction still running (a hint of an event not readable yet):
            # look again soon. Otherwise the next hint, or the timer if hints are lost.
            wait = backoff or hub.poll_seconds
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            self._wake.clear()
            try:
                horizon = await self._catch_up()
            except Exception:
                log.exception("live feed: reading the event log failed; retrying")
                backoff = min(max(backoff * 2, 0.1), hub.poll_seconds)
                continue
            pending = self._hinted is not None and self._hinted.txid >= horizon
            backoff = min(max(backoff * 2, 0.01), 0.5) if pending else 0.0
            if not pending:
                self._hinted = None

    async def _catch_up(self) -> int:
        assert self.position is not None
        while True:
            FEED_READS.inc()
            batch = await read_after(
                self.hub.db, org_id=self.org_id, after=self.position, limit=PAGE, scope=self.scope
            )
            for row in batch.events:
                delivery = Delivery(row)
                for follower in list(self.followers):
                    follower.offer(delivery)
            if batch.events:
                self.position = batch.events[-1].position
            if len(batch.events) < PAGE:
                return batch.horizon


# -- the hub ------------------------------------------------------------------------------


class LiveHub:
    """The process's live subscriptions: feeds shared per (org, scope), dashboards per
    (org, scope)."""

    def __init__(
        self,
        db: Database,
        broadcast: HintBroadcast,
        *,
        queue_size: int = 1000,
        poll_seconds: float = 2.0,
        coalesce_seconds: float = 0.25,
    ) -> None:
        self.db = db
        self.broadcast = broadcast
        self.queue_size = queue_size
        self.poll_seconds = poll_seconds
        self.coalesce_seconds = coalesce_seconds
        self.feeds: dict[tuple[uuid.UUID, EventScope], Feed] = {}
        self.boards: dict[tuple[uuid.UUID, EventScope], Board[Any]] = {}

    async def start(self) -> None:
        await self.broadcast.connect()
        await self.broadcast.wait_connected(2.0)

    async def stop(self) -> None:
        for board in list(self.boards.values()):
            board.task.cancel()
        for feed in list(self.feeds.values()):
            feed.task.cancel()
        tasks = [f.task for f in self.feeds.values()] + [b.task for b in self.boards.values()]
        await asyncio.gather(*tasks, return_exceptions=True)
        self.feeds.clear()
        self.boards.clear()
        await self.broadcast.disconnect()

    @property
    def connected(self) -> bool:
        return self.broadcast.connected

    async def _join(
        self, org_id: uuid.UUID, scope: EventScope, follower: Follower[Delivery]
    ) -> Feed:
        key = (org_id, scope)
        feed = self.feeds.get(key)
        if feed is None or feed.task.done():
            feed = self.feeds[key] = Feed(self, org_id, scope)
        feed.followers.add(follower)
        try:
            await asyncio.shield(feed.started)
        except BaseException:
            self._leave(feed, follower)
            raise
        return feed

    def _leave(self, feed: Feed, follower: Follower[Delivery]) -> None:
        feed.followers.discard(follower)
        if not feed.followers and self.feeds.get((feed.org_id, feed.scope)) is feed:
            del self.feeds[(feed.org_id, feed.scope)]
            feed.task.cancel()

    async def follow(
        self,
        org_id: uuid.UUID,
        scope: EventScope,
        *,
        topics: Sequence[str] | None = None,
        since: str | None = None,
    ) -> AsyncIterator[Delivery]:
        """The events of `scope` (and `topics`), from after `since` when given, else from
        now, in log order, without gaps or duplicates, until the caller stops."""
        wanted = frozenset(topics) if topics is not None else None
        follower: Follower[Delivery] = Follower(
            self.queue_size, None if wanted is None else (lambda d: d.event.topic in wanted)
        )
        after = decode_since(since) if since is not None else None  # RESUME_EXPIRED early
        feed = await self._join(org_id, scope, follower)
        try:
            if since is not None:
                replayed, cursor = 0, since
                while True:
                    page = await replay(
                        self.db, org_id=org_id, since=cursor, limit=PAGE, scope=scope, topics=topics
                    )
                    for row in page.events:
                        yield Delivery(row)
                        after = row.position
                    replayed += len(page.events)
                    cursor = page.cursor or cursor
                    if len(page.events) < PAGE:
                        break
                REPLAYED.observe(replayed)
            while True:
                delivery = await follower.get()
                if after is not None and delivery.event.position <= after:
                    continue  # the replay gave it already
                yield delivery
        finally:
            self._leave(feed, follower)

    async def dashboard(
        self,
        org_id: uuid.UUID,
        scope: EventScope,
        compute: Callable[[str | None], Awaitable[T]],
    ) -> AsyncIterator[T]:
        """The scope's snapshot now, then after every change, at most one per coalescing
        window; `compute(event_id)` builds one and is called once per window for every
        subscriber of the scope (all of whom must be entitled to the same figures)."""
        key = (org_id, scope)
        board = self.boards.get(key)
        if board is None or board.task.done():
            board = self.boards[key] = Board(self, org_id, scope, compute)
        latest: Follower[Any] = Follower(1)
        board.watchers.add(latest)
        try:
            board.greet(latest)
            while True:
                item: Any = await latest.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            board.watchers.discard(latest)
            if not board.watchers and self.boards.get(key) is board:
                del self.boards[key]
                board.task.cancel()


class Board(Generic[T]):
    """A scope's dashboard: recomputed after changes, one computation per coalescing window
    for all its watchers; each watcher holds only the latest snapshot."""

    def __init__(
        self,
        hub: LiveHub,
        org_id: uuid.UUID,
        scope: EventScope,
        compute: Callable[[str | None], Awaitable[T]],
    ) -> None:
        self.hub = hub
        self.org_id = org_id
        self.scope = scope
        self.compute = compute
        self.watchers: set[Follower[Any]] = set()
        self.latest: T | None = None
        self.event_id: str | None = None
        self._dirty = asyncio.Event()
        self._dirty.set()  # the first snapshot
        self.task = asyncio.create_task(self._run(), name=f"board:{org_id}:{scope}")
        self._changes = asyncio.create_task(self._listen())
        self.task.add_done_callback(lambda _t: self._changes.cancel())

    def greet(self, watcher: Follower[Any]) -> None:
        if self.latest is not None and not self._dirty.is_set():
            _replace(watcher, self.latest)
        # otherwise the computation under way (or next) reaches it

    async def _listen(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            async for delivery in self.hub.follow(self.org_id, self.scope):
                self.event_id = delivery.cursor
                self._dirty.set()

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                snapshot = await self.compute(self.event_id)
            except Exception as exc:
                log.exception("dashboard snapshot failed")
                for watcher in list(self.watchers):
                    _replace(watcher, exc)
                await asyncio.sleep(self.hub.poll_seconds)
                self._dirty.set()
                continue
            self.latest = snapshot
            for watcher in list(self.watchers):
                _replace(watcher, snapshot)
            # Coalesce: changes during the window make one more snapshot after it.
            await asyncio.sleep(self.hub.coalesce_seconds)


def _replace(watcher: Follower[Any], item: Any) -> None:
    while not watcher.queue.empty():
        watcher.queue.get_nowait()
    watcher.queue.put_nowait(item)
