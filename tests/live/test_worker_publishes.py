"""What the worker's jobs commit reaches live subscribers through the broadcast, as the API's
mutations do: the worker's own start-up (WorkerSettings.on_startup) wires its Database to
publish, and a risk recompute run by a real arq worker reaches a `riskChanged` subscriber
well before the feeds' timer would have read it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from arq import Worker, create_pool
from arq.connections import RedisSettings
from sqlalchemy import text

from app.config import Settings, get_settings
from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import log, make_student
from tests.live.conftest import following
from tests.live.wsclient import Subscription
from tests.support import app_with, live_server
from workers.settings import WorkerSettings

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
            await _run_worker_job(servers, monkeypatch, "recompute_risk", org.slug)
            got = (await sub.data(wait=POLL_SECONDS / 4))["riskChanged"]
            assert time.monotonic() - started < POLL_SECONDS / 4
            assert got["student"]["id"] == to_global_id("Student", student.id)
            assert (got["previousTier"], got["tier"]) == (1, 2)
        finally:
            await sub.close()


async def _run_worker_job(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, job: str, *args: str
) -> None:
    """`job` run to completion by an arq worker with the worker's own start-up and shut-down,
    configured from the environment as `schoolgraph worker` is."""
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    monkeypatch.setenv("REDIS_URL", servers.redis_url)
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    monkeypatch.delenv("BROADCAST_URL", raising=False)
    get_settings.cache_clear()
    queue = "test-worker-publishes:" + uuid.uuid4().hex
    redis = RedisSettings.from_dsn(servers.redis_url)
    pool = await create_pool(
        redis,
        default_queue_name=queue,
        job_serializer=WorkerSettings.job_serializer,
        job_deserializer=WorkerSettings.job_deserializer,
    )
    try:
        await pool.enqueue_job(job, *args, _queue_name=queue)
        worker = Worker(
            functions=WorkerSettings.functions,
            on_startup=WorkerSettings.on_startup,
            on_shutdown=WorkerSettings.on_shutdown,
            redis_settings=redis,
            queue_name=queue,
            burst=True,
            job_serializer=WorkerSettings.job_serializer,
            job_deserializer=WorkerSettings.job_deserializer,
            handle_signals=False,
            poll_delay=0.05,
        )
        try:
            await asyncio.wait_for(worker.async_run(), 60)
            assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        finally:
            # What Worker.close() would do, but its pool.close() is deprecated in redis-py.
            await WorkerSettings.on_shutdown(worker.ctx)
            await worker.pool.aclose()
    finally:
        await pool.aclose()
        get_settings.cache_clear()
