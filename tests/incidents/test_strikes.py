"""The strike policy: sequence, window, per-org policy, and concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.incidents.models import Incident, IncidentKind
from app.orgs.policy import StrikePolicy
from tests.conftest import make_org
from tests.factories import log, make_student
from tests.incidents.support import changes, incidents_of, log_logged


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


async def test_a_backdated_negative_restrikes_the_later_ones(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    ten = datetime.now(UTC) - timedelta(hours=3)  # "10:00"
    first = await log_logged(db, org, student.id, occurred_at=ten)
    assert first.incident.strike_level == 1 and first.strike_changes == []

    # Offline sync: 09:00 and 09:30 arrive after 10:00 was logged.
    nine = await log_logged(db, org, student.id, occurred_at=ten - timedelta(minutes=60))
    assert nine.incident.strike_level == 1
    assert nine.strike_changes == []  # 10:00 has one negative before it: still strike 1
    half_past = await log_logged(db, org, student.id, occurred_at=ten - timedelta(minutes=30))
    assert half_past.incident.strike_level == 1
    assert changes(half_past) == [(first.incident.id, 1, 2)]

    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    restruck = rows[first.incident.id]
    assert restruck.strike_level == 2
    assert restruck.consequence_text == "Second warning - admin notified"
    assert restruck.admin_notified
    async with db.transaction(org.id) as session:
        audits = (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.action.in_(["incident.log", "incident.restrike"]))
                .order_by(AuditEntry.id)
            )
        ).scalars()
        entries = [(a.action, a.entity_id, a.before, a.after) for a in audits]
    assert [(action, entity) for action, entity, _, _ in entries] == [
        ("incident.log", first.incident.id),
        ("incident.log", nine.incident.id),
        ("incident.restrike", first.incident.id),
        ("incident.log", half_past.incident.id),
    ]
    _, _, before, after = entries[2]
    assert before is not None and after is not None
    assert (before["strike_level"], after["strike_level"]) == (1, 2)


async def test_a_backdated_negative_restrikes_only_inside_its_window(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    later = [await log(db, org, student.id, occurred_at=now - timedelta(hours=h)) for h in (2, 1)]
    far = await log_logged(db, org, student.id, occurred_at=now - timedelta(hours=30))
    assert far.strike_changes == []  # 30 hours before: in neither window
    near = await log_logged(db, org, student.id, occurred_at=now - timedelta(hours=3))
    assert changes(near) == [(later[1].id, 1, 2)]
    positive = await log_logged(
        db, org, student.id, kind=IncidentKind.POSITIVE, occurred_at=now - timedelta(hours=4)
    )
    assert positive.strike_changes == []  # a positive counts in no window
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert [rows[i.id].strike_level for i in later] == [1, 2]


async def test_concurrent_backdated_negatives_leave_strikes_in_time_order(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    ten = datetime.now(UTC) - timedelta(hours=3)
    await log(db, org, student.id, occurred_at=ten)
    # Four offline clients sync at once, each with an earlier time, and a tap "now": the
    # student lock puts them one after another, and each restrikes what the others logged.
    await asyncio.gather(
        *(
            log(db, org, student.id, occurred_at=ten - timedelta(minutes=m))
            for m in (15, 45, 30, 60)
        ),
        log(db, org, student.id),
    )
    rows = await incidents_of(db, org, student.id)
    assert [i.strike_level for i in rows] == [1, 1, 2, 2, 3, 3]
