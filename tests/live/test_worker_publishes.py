"""What the worker's jobs commit reaches live subscribers through the broadcast, as the API's
mutations do: the worker's own start-up (WorkerSettings.on_startup) wires its Database to
publish, and a risk recompute run by a real arq worker reaches a `riskChanged` subscriber
well before the feeds' timer would have read it."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import log, make_student
from tests.live.conftest import following
from tests.live.wsclient import Subscription
from tests.support import app_with, live_server, run_worker

RISK = """subscription { riskChanged { id previousTier tier student { id } } }"""
POLL_SECONDS = 60.0  # the timer would be far too late: only a broadcast hint is in time


async def test_a_risk_change_committed_by_the_worker_reaches_subscribers_at_once(
    servers: Servers, db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    student = await make_student(db, org)
    for _ in range(2):  # below the default three negatives: tier 1
        await log(db, org, student.id)
    settings = Settings(jwt_secret=JWT_SECRET, live_poll_seconds=POLL_SECONDS)
    async with app_with(settings, servers) as app, live_server(app) as port:
        sub = await Subscription.open(
            f"ws://127.0.0.1:{port}/graphql", org.token(Role.TEACHER), RISK
        )
        try:
            await following(app.state.services.live, org.id)  # its feed is listening
            # Two negatives now mark behaviour risk; only a recompute finds out.
            async with db.admin_transaction() as session:
                await session.execute(
                    text(
                        "UPDATE orgs SET settings = settings || CAST(:risk AS jsonb) WHERE id = :id"
                    ),
                    {"risk": json.dumps({"risk": {"behaviour_negatives": 2}}), "id": org.id},
                )
            started = time.monotonic()
            await run_worker(servers, monkeypatch, ("recompute_risk", org.slug))
            got = (await sub.data(wait=POLL_SECONDS / 4))["riskChanged"]
            assert time.monotonic() - started < POLL_SECONDS / 4
            assert got["student"]["id"] == to_global_id("Student", student.id)
            assert (got["previousTier"], got["tier"]) == (1, 2)
        finally:
            await sub.close()
