"""Voiding: the incident stays, marked void, and counts for nothing (strikes, points, risk)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.incidents import service as incidents
from app.incidents.models import IncidentKind
from app.orgs.policy import StrikePolicy
from tests.conftest import make_org
from tests.factories import log, make_student
from tests.incidents.support import changes, incidents_of, student_row, void


async def test_void_the_first_of_three_recomputes_the_later_strikes(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=3)
    first, second, third = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=i)) for i in range(3)
    ]
    assert [i.strike_level for i in (first, second, third)] == [1, 1, 2]
    assert third.admin_notified

    result = await void(db, org, first.id)
    assert result.incident.voided and result.incident.voided_by == "tester"
    assert result.incident.void_reason == "logged for the wrong student"
    assert changes(result) == [(third.id, 2, 1)]

    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert rows[first.id].voided_at is not None
    assert rows[first.id].strike_level == 1  # the record keeps what it was
    assert rows[second.id].strike_level == 1
    assert rows[third.id].strike_level == 1
    assert rows[third.id].consequence_text == "Warning issued"
    # The admin was told when it was strike 2: the flag records that and stays.
    assert rows[third.id].admin_notified


async def test_later_strikes_are_recomputed_in_chronological_order(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=5)
    logged = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=10 * i))
        for i in range(5)
    ]
    assert [i.strike_level for i in logged] == [1, 1, 2, 2, 3]
    result = await void(db, org, logged[1].id)
    assert changes(result) == [(logged[2].id, 2, 1), (logged[4].id, 3, 2)]
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert [rows[i.id].strike_level for i in logged] == [1, 1, 1, 2, 2]
    assert rows[logged[4].id].consequence_text == "Second warning - admin notified"
    assert rows[logged[4].id].admin_notified and rows[logged[4].id].hod_consulted
    # A new negative now counts the four non-void ones in the window.
    assert (await log(db, org, student.id)).strike_level == 3


async def test_a_void_outside_the_others_windows_changes_no_strike(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    old = await log(db, org, student.id, occurred_at=now - timedelta(hours=50))
    recent = [await log(db, org, student.id, occurred_at=now - timedelta(hours=h)) for h in (3, 2)]
    # Logged late with an earlier time: logging restrikes the later two (1, 2)...
    await log(db, org, student.id, occurred_at=now - timedelta(hours=4))
    result = await void(db, org, old.id)
    # ...and a void whose window (the 24 hours after `old`) holds none of them does not.
    assert changes(result) == []
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert [rows[i.id].strike_level for i in recent] == [1, 2]


async def test_void_reverses_house_points(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    positive = await log(db, org, student.id, kind=IncidentKind.POSITIVE)
    negative = await log(db, org, student.id, kind=IncidentKind.NEGATIVE)
    assert (await student_row(db, org, student.id)).house_points == 0
    await void(db, org, negative.id)
    assert (await student_row(db, org, student.id)).house_points == 1
    await void(db, org, positive.id)
    assert (await student_row(db, org, student.id)).house_points == 0


async def test_risk_tier_drops_when_the_void_incidents_raised_it(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    logged = [
        await log(db, org, student.id, occurred_at=now - timedelta(days=d)) for d in (2, 3, 4)
    ]
    before = await student_row(db, org, student.id)
    assert before.risk_tier == 2
    result = await void(db, org, logged[0].id)
    assert result.risk is not None and result.risk.result.tier == 1
    after = await student_row(db, org, student.id)
    assert after.risk_tier == 1
    assert not [f for f in after.risk_factors if f["triggered"]]


async def test_void_incidents_do_not_count_for_the_current_strike_level(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    logged = [await log(db, org, student.id) for _ in range(3)]
    window = timedelta(hours=StrikePolicy().window_hours)

    async def level() -> int:
        async with db.transaction(org.id) as session:
            levels = await incidents.current_strike_levels(
                session, org_id=org.id, student_ids=[student.id], window=window
            )
        return levels[student.id]

    assert await level() == 2
    await void(db, org, logged[2].id)
    assert await level() == 1
    for incident in logged[:2]:
        await void(db, org, incident.id)
    assert await level() == 0


async def test_void_twice_is_a_conflict(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    await void(db, org, incident.id)
    with pytest.raises(ServiceError) as caught:
        await void(db, org, incident.id, reason="again")
    assert [(e.field, e.code) for e in caught.value.errors] == [("id", ErrorCode.CONFLICT)]
    assert (await student_row(db, org, student.id)).house_points == 0  # reversed once


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", ErrorCode.REQUIRED), ("   ", ErrorCode.REQUIRED), ("x" * 501, ErrorCode.TOO_LONG)],
)
async def test_a_reason_is_required(db: Database, reason: str, code: ErrorCode) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    with pytest.raises(ServiceError) as caught:
        await void(db, org, incident.id, reason=reason)
    assert [(e.field, e.code) for e in caught.value.errors] == [("reason", code)]
    (row,) = await incidents_of(db, org, student.id)
    assert row.voided_at is None


async def test_void_is_audited_with_before_and_after(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    first, _, third = [await log(db, org, student.id) for _ in range(3)]
    await void(db, org, first.id)
    async with db.transaction(org.id) as session:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action.in_(["incident.void", "incident.restrike"]))
                    .order_by(AuditEntry.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(r.action, r.entity_id) for r in rows] == [
        ("incident.restrike", third.id),
        ("incident.void", first.id),
    ]
    restrike, voided = rows
    assert restrike.before is not None and restrike.after is not None
    assert (restrike.before["strike_level"], restrike.after["strike_level"]) == (2, 1)
    assert voided.before is not None and voided.after is not None
    assert voided.before["voided_at"] is None and voided.after["voided_at"] is not None
    assert voided.after["void_reason"] == "logged for the wrong student"


async def test_void_and_log_concurrently_leave_consistent_strikes(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=2)
    logged = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=i)) for i in range(4)
    ]
    await asyncio.gather(
        void(db, org, logged[0].id),
        void(db, org, logged[1].id),
        *(log(db, org, student.id) for _ in range(3)),
    )
    rows = [i for i in await incidents_of(db, org, student.id) if i.voided_at is None]
    # Whatever the interleaving: five non-void negatives, struck as if logged in order.
    assert [i.strike_level for i in rows] == [1, 1, 2, 2, 3]
