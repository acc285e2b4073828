"""Resuming with `since`: exactly the missed events, in order, then live; no duplicates, and
none lost among those written while the replay runs. And what a subscription leaves behind
when it ends: nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import Org
from tests.factories import log, make_student
from tests.live.wsclient import PROTOCOLS, Subscription

FEED = """subscription($since: ID, $scope: ScopeInput) {
  incidentLogged(since: $since, scope: $scope) { id incident { id } } }"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_since_replays_exactly_what_was_missed_then_goes_on_live(
    ws_url: str, app_db: Database, org: Org, protocol: str
) -> None:
    student = await make_student(app_db, org, class_code="RS1")
    scope = {"classCode": "RS1"}
    token = org.token(Role.TEACHER)
    first = await Subscription.open(ws_url, token, FEED, {"scope": scope}, protocol=protocol)
    logged = [await log(app_db, org, student.id)]
    got = (await first.data())["incidentLogged"]
    since = got["id"]
    await first.close()
    # Missed while disconnected ...
    logged += [await log(app_db, org, student.id) for _ in range(3)]

    # ... and more written while the resumed subscription replays.
    async def keep_logging() -> None:
        for _ in range(5):
            logged.append(await log(app_db, org, student.id))
            await asyncio.sleep(0.01)

    writer = asyncio.create_task(keep_logging())
    resumed = await Subscription.open(
        ws_url, token, FEED, {"since": since, "scope": scope}, protocol=protocol
    )
    try:
        await writer
        seen = [(await resumed.data())["incidentLogged"] for _ in range(len(logged) - 1)]
        assert [s["incident"]["id"] for s in seen] == [
            to_global_id("Incident", i.id) for i in logged[1:]
        ]
        assert len({s["id"] for s in seen}) == len(seen)
        await resumed.quiet(0.5)  # no duplicates trail behind
        # and it is live now
        last = await log(app_db, org, student.id)
        live = (await resumed.data())["incidentLogged"]
        assert live["incident"]["id"] == to_global_id("Incident", last.id)
    finally:
        await resumed.close()


async def test_a_since_the_log_does_not_hold_is_resume_expired(ws_url: str, org: Org) -> None:
    sub = await Subscription.open(ws_url, org.token(), FEED, {"since": "bm9wZQ"})
    try:
        payload = await sub.next()
        (error,) = payload["errors"]
        assert error["extensions"]["code"] == "RESUME_EXPIRED", error
    finally:
        await sub.close()


async def test_many_subscribe_disconnect_cycles_leave_nothing_behind(
    ws_url: str, app: Any, org: Org
) -> None:
    hub = app.state.services.live
    token = org.token(Role.TEACHER)
    for i in range(1000):
        sub = await Subscription.open(ws_url, token, FEED, {"scope": {"classCode": f"CY{i % 7}"}})
        if i % 100 == 0:  # now and then, be sure it was really following
            await asyncio.sleep(0.05)
            assert any(org.id == key[0] for key in hub.feeds)
        await sub.close()

    def left_over() -> list[str]:
        mine = str(org.id)
        return (
            [str(k) for k in hub.feeds if k[0] == org.id]
            + [c for c in hub.broadcast._subscribers if mine in c]
            + [c for c in hub.broadcast.backend.channels if mine in c]
        )

    for _ in range(100):  # a feed's clean-up runs in its own task, just after
        if not left_over():
            break
        await asyncio.sleep(0.05)
    assert left_over() == []
