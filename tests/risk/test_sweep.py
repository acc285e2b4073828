"""Risk that stays true with time alone: the sweep, its schedule, and risk from creation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from arq import Worker, create_pool
from arq.connections import RedisSettings
from sqlalchemy import func, select, update

from app.db import Database
from app.orgs.models import Role
from app.risk import scheduled
from app.risk.models import RiskAssessment
from app.students.models import Student
from tests.conftest import GraphQLClient, Org, Servers, make_org
from tests.factories import log, make_student
from workers.settings import WorkerSettings


async def _student(db: Database, org: Org, student_id: object) -> Student:
    async with db.transaction(org.id) as session:
        return (await session.execute(select(Student).where(Student.id == student_id))).scalar_one()


async def _history(db: Database, org: Org, student_id: object) -> int:
    async with db.transaction(org.id) as session:
        return (
            await session.execute(
                select(func.count()).where(RiskAssessment.student_id == student_id)
            )
        ).scalar_one()


async def _negatives(db: Database, org: Org, student_id: object, at: datetime) -> None:
    for minutes in (0, 1, 2):
        await log(db, org, student_id, occurred_at=at + timedelta(minutes=minutes))  # type: ignore[arg-type]


async def test_negatives_that_age_out_of_the_window_lower_the_tier(db: Database, org: Org) -> None:
    now = datetime.now(UTC)
    student = await make_student(db, org)
    await _negatives(db, org, student.id, now - timedelta(days=6))
    assert (await _student(db, org, student.id)).risk_tier == 2
    history = await _history(db, org, student.id)

    # Two days later (at noon, so that the look 15 minutes on never crosses a midnight,
    # which makes every student due) nothing was written, but the negatives are 7.5+ days old.
    later = (now + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    (result,) = await scheduled.sweep(db, org_slug=org.slug, now=later)
    assert result.evaluated == 1 and result.changed == 1
    fresh = await _student(db, org, student.id)
    assert fresh.risk_tier == 1
    assert fresh.risk_computed_at == later
    assert await _history(db, org, student.id) == history + 1

    # Once swept, the student is not due again until the window or the day changes.
    (again,) = await scheduled.sweep(db, org_slug=org.slug, now=later + timedelta(minutes=15))
    assert again.evaluated == 0


async def test_a_student_inside_the_window_is_not_swept_needlessly(db: Database, org: Org) -> None:
    now = datetime.now(UTC)
    student = await make_student(db, org)
    await _negatives(db, org, student.id, now - timedelta(days=2))
    # Five minutes on, but never past midnight (from then on every student is due).
    end_of_day = datetime.combine(now.date(), time.max, tzinfo=UTC)
    sweep_at = min(now + timedelta(minutes=5), end_of_day)
    (result,) = await scheduled.sweep(db, org_slug=org.slug, now=sweep_at)
    assert result.evaluated == 0
    assert (await _student(db, org, student.id)).risk_tier == 2


async def test_every_student_is_evaluated_at_least_daily_in_the_org_time_zone(
    db: Database,
) -> None:
    org = await make_org(db, settings={"timezone": "Pacific/Auckland"})
    student = await make_student(db, org)
    await log(db, org, student.id)
    computed = (await _student(db, org, student.id)).risk_computed_at
    assert computed is not None
    # Evaluated just before the org's local midnight; the sweep just after it re-evaluates.
    from zoneinfo import ZoneInfo

    local = computed.astimezone(ZoneInfo("Pacific/Auckland"))
    next_midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    async with db.transaction(org.id) as session:
        await session.execute(
            update(Student)
            .where(Student.id == student.id)
            .values(risk_computed_at=next_midnight - timedelta(minutes=1))
        )
    (before,) = await scheduled.sweep(
        db, org_slug=org.slug, now=next_midnight - timedelta(seconds=30)
    )
    assert before.evaluated == 0
    (after,) = await scheduled.sweep(
        db, org_slug=org.slug, now=next_midnight + timedelta(minutes=1)
    )
    assert after.evaluated == 1 and after.changed == 0  # no change: no history row


async def test_students_never_evaluated_are_swept(db: Database, org: Org) -> None:
    student = await make_student(db, org)  # the service alone: no risk yet
    assert (await _student(db, org, student.id)).risk_computed_at is None
    (result,) = await scheduled.sweep(db, org_slug=org.slug)
    assert result.evaluated == 1
    assert (await _student(db, org, student.id)).risk_computed_at is not None


async def test_a_sweep_of_one_org_leaves_others_alone(db: Database, org: Org) -> None:
    other = await make_org(db)
    mine, theirs = await make_student(db, org), await make_student(db, other)
    results = await scheduled.sweep(db, org_slug=org.slug)
    assert [r.org_slug for r in results] == [org.slug]
    assert (await _student(db, org, mine.id)).risk_computed_at is not None
    assert (await _student(db, other, theirs.id)).risk_computed_at is None


async def test_a_student_created_through_the_api_has_risk_at_once(
    gql: GraphQLClient, org: Org
) -> None:
    body = await gql(
        """mutation { upsertStudent(input: {externalId: "NEW1", name: "Ada New"}) {
             student { riskTier risk { tier computedAt indicators { indicator triggered } } }
             errors { field } } }""",
        token=org.token(Role.ADMIN),
    )
    student = body["data"]["upsertStudent"]["student"]
    assert student["riskTier"] == 1
    assert student["risk"]["computedAt"] is not None
    assert {f["indicator"] for f in student["risk"]["indicators"]} >= {"ATTENDANCE"}


async def test_the_worker_runs_the_on_demand_recompute(
    db: Database, org: Org, servers: Servers
) -> None:
    """Through a real arq worker on the test Valkey: the on-demand job recomputes every
    student of the org."""
    student = await make_student(db, org)
    redis = RedisSettings.from_dsn(servers.redis_url)
    pool = await create_pool(
        redis,
        default_queue_name="test-risk:" + org.slug,
        job_serializer=WorkerSettings.job_serializer,
        job_deserializer=WorkerSettings.job_deserializer,
    )
    try:
        await pool.enqueue_job("recompute_risk", org.slug, _queue_name="test-risk:" + org.slug)
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=redis,
            queue_name="test-risk:" + org.slug,
            burst=True,
            ctx={"db": db},
            job_serializer=WorkerSettings.job_serializer,
            job_deserializer=WorkerSettings.job_deserializer,
            handle_signals=False,
            poll_delay=0.05,
        )
        await asyncio.wait_for(worker.async_run(), 30)
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        await worker.pool.aclose()  # Worker.close() calls a deprecated redis close()
    finally:
        await pool.aclose()
    assert (await _student(db, org, student.id)).risk_computed_at is not None


async def test_the_worker_runs_the_scheduled_sweep(db: Database, servers: Servers) -> None:
    """The worker's own cron job (run at start-up, as WorkerSettings declares it) sweeps a
    student never evaluated."""
    org = await make_org(db)
    student = await make_student(db, org)
    assert (await _student(db, org, student.id)).risk_computed_at is None
    worker = Worker(
        functions=[],
        # The worker's own declaration of the risk sweep (its other crons queue jobs of
        # their own, for every org the session's database holds: not this test's).
        cron_jobs=[c for c in WorkerSettings.cron_jobs if c.name == "cron:risk_sweep"],
        redis_settings=RedisSettings.from_dsn(servers.redis_url),
        queue_name="test-risk-cron:" + org.slug,
        burst=True,
        ctx={"db": db},
        job_serializer=WorkerSettings.job_serializer,
        job_deserializer=WorkerSettings.job_deserializer,
        handle_signals=False,
        poll_delay=0.05,
    )
    try:
        await asyncio.wait_for(worker.async_run(), 120)
        assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    finally:
        await worker.pool.aclose()
    assert (await _student(db, org, student.id)).risk_computed_at is not None
