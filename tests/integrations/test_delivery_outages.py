"""Deliveries survive what breaks around them: Valkey stopped while incidents are logged
(they go out after it returns, by the sweep), and a worker killed in the middle of a post
(the delivery goes out again with the same webhook-id, and the receiver's effect is once)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.integrations import delivery as D
from app.integrations import service
from app.integrations.models import DeliveryStatus, EndpointKind
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import make_student
from tests.integrations.test_webhooks import POLICY, Receiver, _deliveries
from tests.live.test_outages import Valkey
from tests.support import app_with, job_pool, run_worker

LOG = """mutation($s: ID!) { logIncident(input: {studentId: $s, kind: NEGATIVE,
  category: "Disruption", note: "Shouting."}) { incident { id } errors { code } } }"""


async def _endpoint(db: Database, org: Org, url: str) -> None:
    async with db.transaction(org.id) as session:
        await service.create(
            session,
            actor=org.principal(Role.ADMIN),
            changes=service.EndpointChanges(
                name="BM", kind=EndpointKind.BEHAVIOUR_MANAGEMENT, url=url
            ),
            allow_private=True,
        )


def _env(servers: Servers, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": JWT_SECRET,
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    }


async def test_with_valkey_stopped_logging_succeeds_and_the_sweep_delivers_later(
    scratch_database_url: str,
    valkey: Valkey,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A database of its own: the worker's sweep delivers everything due, and the session's
    # database holds other tests' deliveries (whose retries would keep a burst worker up).
    import httpx

    from app import migrate
    from app.graphql.relay import to_global_id
    from tests.conftest import GraphQLClient, make_org

    await asyncio.to_thread(migrate.upgrade, scratch_database_url)
    own = Servers(scratch_database_url, valkey.url)
    settings = Settings(jwt_secret=JWT_SECRET, webhook_allow_private_urls=True)
    db = Database.connect(settings, scratch_database_url)
    try:
        org = await make_org(db)
        await _endpoint(db, org, receiver.url)
        student = await make_student(db, org)
        async with app_with(settings, own) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                gql = GraphQLClient(http)
                valkey.stop()
                for _ in range(3):
                    body = await gql(
                        LOG,
                        {"s": to_global_id("Student", student.id)},
                        token=org.token(Role.TEACHER),
                    )
                    assert body["data"]["logIncident"]["errors"] == [], body
        written = await _deliveries(db, org)
        assert len(written) == 3 and {d.status for d in written} == {DeliveryStatus.PENDING}
        assert receiver.requests == []

        valkey.start()
        # The worker's own sweep of webhooks (run at its start) finds and delivers them.
        await run_worker(
            own,
            monkeypatch,
            redis_url=valkey.url,
            crons=("cron:sweep_webhooks",),
            env={"WEBHOOK_ALLOW_PRIVATE_URLS": "true"},
        )
        assert sorted(receiver.effects) == sorted(str(d.id) for d in written)
        assert {d.status for d in await _deliveries(db, org)} == {DeliveryStatus.DELIVERED}
    finally:
        await db.dispose()


async def test_a_worker_killed_mid_post_delivers_once_in_effect(
    servers: Servers,
    db: Database,
    org: Org,
    valkey: Valkey,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    import httpx

    await _endpoint(db, org, receiver.url)
    student = await make_student(db, org)
    from tests.factories import log

    await log(db, org, student.id)  # `db` queues nothing: the job is queued by hand below
    [d] = await _deliveries(db, org)
    receiver.script = [(200, {}, 4.0)]  # the first post is slow: the worker dies in it
    async with job_pool(valkey.url) as pool:
        await pool.enqueue_job("deliver_webhook", str(d.id), _job_id=D.job_id(d.id, 0))
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        "--data-dir",
        str(tmp_path),
        env={**os.environ, **_env(servers, valkey.url)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(1200):
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
        assert receiver.requests, "the worker never posted"
        worker.send_signal(signal.SIGKILL)  # mid-post: it records nothing
        await asyncio.wait_for(worker.wait(), 10)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    [leased] = await _deliveries(db, org)
    assert leased.status is DeliveryStatus.PENDING and leased.leased_until is not None
    # As if the dead worker's lease had run out: the sweep (or this call) tries again.
    async with db.admin_transaction() as session:
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET leased_until = now() - interval '1 second'"
                " WHERE id = :id"
            ),
            {"id": d.id},
        )
    assert d.id in {i for i, _ in await D.due(db)}
    async with httpx.AsyncClient() as http:
        outcome = await D.deliver(db, http, d.id, POLICY)
    assert outcome is not None and outcome.status is DeliveryStatus.DELIVERED
    await asyncio.sleep(4.5)  # the first (orphaned) post finishes on the receiver's side
    assert len(receiver.requests) == 2
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {str(d.id)}
    assert list(receiver.effects) == [str(d.id)]  # deduped by webhook-id: one effect
