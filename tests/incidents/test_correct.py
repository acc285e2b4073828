"""Correcting category, note, kind or time: points, strikes and risk follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.audit.models import AuditEntry
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.incidents.models import Incident, IncidentKind
from tests.conftest import make_org
from tests.factories import log, make_student
from tests.incidents.support import (
    changes,
    correct,
    incidents_of,
    log_logged,
    student_row,
    void,
)


async def test_negative_to_positive_recomputes_strikes_and_points(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=3)
    first, second, third = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=i)) for i in range(3)
    ]
    assert (await student_row(db, org, student.id)).house_points == -3

    result = await correct(db, org, first.id, kind=IncidentKind.POSITIVE)
    assert changes(result) == [(first.id, 1, None), (third.id, 2, 1)]
    assert result.incident.kind is IncidentKind.POSITIVE
    assert result.incident.points == 1  # the default for the kind followed it
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert rows[first.id].strike_level is None and rows[first.id].consequence_text is None
    assert [rows[i.id].strike_level for i in (second, third)] == [1, 1]
    assert (await student_row(db, org, student.id)).house_points == -1


async def test_positive_to_negative_strikes_it_and_raises_the_later_ones(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    start = datetime.now(UTC) - timedelta(hours=3)
    positive = await log(db, org, student.id, kind=IncidentKind.POSITIVE, occurred_at=start)
    negatives = [
        await log(db, org, student.id, occurred_at=start + timedelta(minutes=1 + i))
        for i in range(2)
    ]
    assert [i.strike_level for i in negatives] == [1, 1]
    result = await correct(db, org, positive.id, kind=IncidentKind.NEGATIVE)
    assert changes(result) == [(positive.id, None, 1), (negatives[1].id, 1, 2)]
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert rows[positive.id].consequence_text == "Warning issued"
    assert rows[negatives[1].id].admin_notified  # strike 2 demands it
    assert rows[negatives[1].id].consequence_text == "Second warning - admin notified"
    assert (await student_row(db, org, student.id)).house_points == -3


async def test_points_a_teacher_chose_stay_when_the_kind_changes(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    chosen = await log_logged(db, org, student.id, points=-5)
    assert (await student_row(db, org, student.id)).house_points == -5
    result = await correct(db, org, chosen.incident.id, kind=IncidentKind.NEUTRAL)
    assert result.incident.points == -5
    assert (await student_row(db, org, student.id)).house_points == -5


async def test_correcting_the_time_moves_the_window(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    a, b, c = [
        await log(db, org, student.id, occurred_at=now - timedelta(hours=h)) for h in (3, 2, 1)
    ]
    assert [i.strike_level for i in (a, b, c)] == [1, 1, 2]

    moved_away = await correct(db, org, a.id, occurred_at=now - timedelta(hours=40))
    assert changes(moved_away) == [(c.id, 2, 1)]

    moved_last = await correct(db, org, a.id, occurred_at=now - timedelta(minutes=30))
    assert changes(moved_last) == [(a.id, 1, 2)]  # b and c come before it now
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert [rows[i.id].strike_level for i in (b, c, a)] == [1, 1, 2]
    assert rows[a.id].occurred_at == now - timedelta(minutes=30)


async def test_only_the_windows_of_the_old_and_new_times_are_recomputed(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    moved = await log(db, org, student.id, occurred_at=now - timedelta(hours=70))
    # Between the old and the new window, strikes a recompute would change (2, 1, 1): as an
    # older version, which did not restrike on logging, stored three negatives synced late.
    middle = [
        await log(db, org, student.id, occurred_at=now - timedelta(hours=h)) for h in (30, 31, 32)
    ]
    async with db.transaction(org.id) as session:
        await session.execute(
            update(Incident)
            .where(Incident.id.in_([i.id for i in middle]))
            .values(strike_level=1, consequence_text="Warning issued")
        )
    result = await correct(db, org, moved.id, occurred_at=now - timedelta(hours=1))
    assert changes(result) == []
    rows = {i.id: i for i in await incidents_of(db, org, student.id)}
    assert [rows[i.id].strike_level for i in middle] == [1, 1, 1]


async def test_category_and_note_only_change_no_strike(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    first = await log_logged(db, org, student.id, note="wrong words")
    await log(db, org, student.id)
    result = await correct(db, org, first.incident.id, category=" late ", note="")
    assert changes(result) == []
    assert result.incident.category == "late" and result.incident.note is None
    async with db.transaction(org.id) as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "incident.correct"))
        ).scalar_one()
    assert entry.before is not None and entry.after is not None
    assert (entry.before["category"], entry.after["category"]) == ("disruptive", "late")
    assert (entry.before["note"], entry.after["note"]) == ("wrong words", None)


async def test_risk_follows_a_correction(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    now = datetime.now(UTC)
    logged = [
        await log(db, org, student.id, occurred_at=now - timedelta(days=d)) for d in (2, 3, 4)
    ]
    assert (await student_row(db, org, student.id)).risk_tier == 2
    await correct(db, org, logged[2].id, occurred_at=now - timedelta(days=9))
    assert (await student_row(db, org, student.id)).risk_tier == 1
    await correct(db, org, logged[2].id, occurred_at=now - timedelta(days=1))
    assert (await student_row(db, org, student.id)).risk_tier == 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, [(None, ErrorCode.REQUIRED)]),
        ({"category": "  "}, [("category", ErrorCode.REQUIRED)]),
        ({"category": "x" * 101}, [("category", ErrorCode.TOO_LONG)]),
        ({"note": "x" * 10_001}, [("note", ErrorCode.TOO_LONG)]),
        (
            {"occurred_at": datetime.now(UTC) + timedelta(days=1)},
            [("occurredAt", ErrorCode.OUT_OF_RANGE)],
        ),
        ({"occurred_at": datetime(2026, 1, 1, 9)}, [("occurredAt", ErrorCode.INVALID)]),
    ],
    ids=["nothing", "blank-category", "long-category", "long-note", "future", "naive-time"],
)
async def test_bad_corrections_are_user_errors(
    db: Database, fields: dict[str, object], expected: list[tuple[str | None, ErrorCode]]
) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    with pytest.raises(ServiceError) as caught:
        await correct(db, org, incident.id, **fields)
    assert [(e.field, e.code) for e in caught.value.errors] == expected
    (row,) = await incidents_of(db, org, student.id)
    assert row.category == "disruptive"


async def test_a_void_incident_cannot_be_corrected(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    await void(db, org, incident.id)
    with pytest.raises(ServiceError) as caught:
        await correct(db, org, incident.id, category="late")
    assert [(e.field, e.code) for e in caught.value.errors] == [("id", ErrorCode.CONFLICT)]
