"""A subscriber that falls more than LIVE_QUEUE_SIZE events behind, over a real socket, is
ended with SUBSCRIPTION_OVERFLOW rather than the server holding its backlog; resuming with
`since` (the last id it received) then gives it exactly what it missed, in order."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.config import Settings
from app.db import Database
from app.events.live import LiveHub
from app.graphql.relay import to_global_id
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentKind
from app.metrics import OVERFLOWS
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import log, make_student
from tests.live.wsclient import PROTOCOLS, Subscription
from tests.support import app_with, live_server

FEED = """subscription($since: ID) { incidentLogged(since: $since) { id incident { id } } }"""

QUEUE = 2
BURST = 6  # readable in one read of the log: more than QUEUE offered at once


async def _log_together(
    db: Database, org: Org, student_id: uuid.UUID, count: int
) -> list[Incident]:
    """`count` incidents committed in one transaction: their events become readable at once."""
    logged = []
    async with db.transaction(org.id) as session:
        for _ in range(count):
            result = await flows.log_incident(
                session,
                actor=org.principal(),
                data=incidents.IncidentData(
                    student_id=student_id,
                    kind=IncidentKind.NEGATIVE,
                    category="disruptive",
                ),
            )
            logged.append(result.incident)
    return logged


async def _following(hub: LiveHub, org_id: uuid.UUID) -> None:
    """Until the subscription has joined its feed: what commits after this is its own."""
    for _ in range(500):
        if any(
            o == org_id and f.started.done() and f.followers for (o, _s), f in hub.feeds.items()
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never joined its feed")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_slow_subscriber_is_ended_with_overflow_and_resumes_with_since(
    servers: Servers, db: Database, org: Org, protocol: str
) -> None:
    # `db` publishes nothing: the feed reads the log on its (short) timer.
    settings = Settings(jwt_secret=JWT_SECRET, live_queue_size=QUEUE, live_poll_seconds=0.5)
    async with app_with(settings, servers) as app, live_server(app) as port:
        ws_url = f"ws://127.0.0.1:{port}/graphql"
        student = await make_student(db, org)
        token = org.token(Role.TEACHER)
        sub = await Subscription.open(ws_url, token, FEED, protocol=protocol)
        try:
            await _following(app.state.services.live, org.id)
            first = await log(db, org, student.id)
            got = (await sub.data())["incidentLogged"]
            assert got["incident"]["id"] == to_global_id("Incident", first.id)
            since = got["id"]

            overflows = OVERFLOWS._value.get()
            missed = await _log_together(db, org, student.id, BURST)
            payload = await sub.next()
            assert payload.get("errors"), payload
            (error,) = payload["errors"]
            assert error["extensions"]["code"] == "SUBSCRIPTION_OVERFLOW", error
            assert "since" in error["message"]
            assert OVERFLOWS._value.get() == overflows + 1
            # Ended: completed by the server (after a result with the error, or with an
            # `error` message), and nothing of the burst follows.
            if not sub.ended:
                assert await sub.next() == {"complete": True}
            await sub.quiet(0.3)
        finally:
            await sub.close()

        resumed = await Subscription.open(ws_url, token, FEED, {"since": since}, protocol=protocol)
        try:
            seen = [(await resumed.data())["incidentLogged"] for _ in missed]
            assert [s["incident"]["id"] for s in seen] == [
                to_global_id("Incident", i.id) for i in missed
            ]
            assert len({s["id"] for s in seen}) == BURST
            await resumed.quiet(1.0)  # more than one poll: nothing more, no duplicates
        finally:
            await resumed.close()
