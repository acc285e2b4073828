"""The strike policy: sequence, window, per-org policy, and concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.db import Database
from app.incidents.models import Incident, IncidentKind
from app.orgs.policy import StrikePolicy
from tests.conftest import make_org
from tests.factories import log, make_student


def test_policy_formula() -> None:
    policy = StrikePolicy()
    assert [policy.strike_for(n) for n in range(8)] == [1, 1, 2, 2, 3, 3, 3, 3]
    assert policy.rung(2).admin_notified and not policy.rung(2).hod_consulted
    assert policy.rung(3).hod_consulted and not policy.rung(3).admin_notified


async def test_strike_sequence_consequences_and_flags(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=3)
    logged = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=i)) for i in range(6)
    ]
    assert [i.strike_level for i in logged] == [1, 1, 2, 2, 3, 3]
    assert logged[0].consequence_text == "Warning issued"
    assert logged[2].consequence_text == "Second warning - admin notified"
    assert logged[2].admin_notified and not logged[2].hod_consulted
    assert logged[4].consequence_text == "Third strike - HOD consultation required"
    assert logged[4].hod_consulted and not logged[4].admin_notified  # PTCC's flags, exactly
    assert not any(i.parent_meeting_scheduled for i in logged)


async def test_window_only_counts_the_last_24_hours(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    for hours in (30, 29, 26):  # outside the window
        await log(db, org, student.id, occurred_at=now - timedelta(hours=hours))
    inside = await log(db, org, student.id, occurred_at=now - timedelta(hours=1))
    assert inside.strike_level == 1
    # positives and neutrals never strike, nor count
    positive = await log(db, org, student.id, kind=IncidentKind.POSITIVE)
    assert positive.strike_level is None
    second = await log(db, org, student.id)
    assert second.strike_level == 1
    third = await log(db, org, student.id)
    assert third.strike_level == 2


async def test_per_org_policy(db: Database) -> None:
    strict = await make_org(db, {"strikes": {"negatives_per_strike": 1}})
    student = await make_student(db, strict)
    levels = [(await log(db, strict, student.id)).strike_level for _ in range(4)]
    assert levels == [1, 2, 3, 3]


async def test_four_concurrent_negatives_get_consecutive_strikes(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    same_instant = datetime.now(UTC) - timedelta(minutes=5)
    logged = await asyncio.gather(
        *(log(db, org, student.id, occurred_at=same_instant) for _ in range(4))
    )
    assert sorted(i.strike_level for i in logged) == [1, 1, 2, 2]
    async with db.transaction(org.id) as session:
        count = await session.scalar(
            select(func.count()).select_from(Incident).where(Incident.student_id == student.id)
        )
    assert count == 4


async def test_house_points_follow_incidents(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    await log(db, org, student.id, kind=IncidentKind.POSITIVE)
    await log(db, org, student.id, kind=IncidentKind.POSITIVE)
    await log(db, org, student.id, kind=IncidentKind.NEGATIVE)
    async with db.transaction(org.id) as session:
        from app.students.models import Student

        points = await session.scalar(select(Student.house_points).where(Student.id == student.id))
    assert points == 1


async def test_concurrent_taps_a_moment_apart_are_struck_in_time_order(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    await asyncio.gather(*(log(db, org, student.id) for _ in range(6)))
    async with db.transaction(org.id) as session:
        levels = (
            await session.scalars(
                select(Incident.strike_level)
                .where(Incident.student_id == student.id)
                .order_by(Incident.occurred_at)
            )
        ).all()
    # The default time is taken under the student lock: in time order, each counts the ones
    # before it.
    assert list(levels) == [1, 1, 2, 2, 3, 3]
