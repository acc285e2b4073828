"""A slow subscriber cannot hold more than its queue: it is ended with SUBSCRIPTION_OVERFLOW
(the client resumes with `since`), and a dashboard watcher keeps only the latest."""

from __future__ import annotations

import pytest

from app.core.errors import ErrorCode, ServiceError
from app.events.live import Follower, _replace


async def test_an_overflowing_follower_is_ended_and_holds_nothing() -> None:
    follower: Follower[int] = Follower(3)
    for i in range(10):
        follower.offer(i)
    assert follower.ended and follower.queue.qsize() == 1  # only the overflow marker
    with pytest.raises(ServiceError) as caught:
        await follower.get()
    (error,) = caught.value.errors
    assert error.code == ErrorCode.SUBSCRIPTION_OVERFLOW and "since" in error.message


async def test_a_follower_within_its_queue_gets_everything_in_order() -> None:
    follower: Follower[int] = Follower(3, accepts=lambda i: i % 2 == 0)
    for i in range(6):
        follower.offer(i)
    assert [await follower.get() for _ in range(3)] == [0, 2, 4]
    assert not follower.ended


async def test_a_dashboard_watcher_keeps_only_the_latest_snapshot() -> None:
    watcher: Follower[str] = Follower(1)
    for snapshot in ("a", "b", "c"):
        _replace(watcher, snapshot)
    assert watcher.queue.qsize() == 1 and await watcher.get() == "c"
