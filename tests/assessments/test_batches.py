"""Batch recording (what imports will use): all or nothing, errors name the item, and the
statement count does not grow with the batch."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.assessments import flows as assessment_flows
from app.assessments.models import Assessment, AssessmentKind
from app.assessments.service import AssessmentData
from app.attendance import flows as attendance_flows
from app.attendance.service import DayInput
from app.audit.models import AuditEntry
from app.core.errors import ServiceError
from app.db import Database
from app.graphql.relay import to_global_id
from tests.conftest import GraphQLClient, Org, make_org
from tests.factories import make_student


def _diagnostic(
    student_id: Any, score: int = 500, taken_on: date = date(2026, 9, 20)
) -> AssessmentData:
    return AssessmentData(
        student_id, AssessmentKind.DIAGNOSTIC, "Reading", taken_on, scale_score=score
    )


async def _statements(db: Database, work: Any) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await work()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return len(seen)


async def test_assessment_batch_is_all_or_nothing(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    items = [
        _diagnostic(student.id),
        _diagnostic(student.id, score=50),
        _diagnostic(student.id, score=900),
        _diagnostic(uuid.uuid4()),
    ]
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await assessment_flows.record_many(session, actor=org.principal(), items=items)
    assert [(e.field, e.code.value) for e in refused.value.errors] == [
        ("items[1].scaleScore", "OUT_OF_RANGE"),
        ("items[2].scaleScore", "OUT_OF_RANGE"),
        ("items[3].studentId", "NOT_FOUND"),
    ]
    async with db.transaction(org.id) as session:
        assert await session.scalar(select(func.count()).select_from(Assessment)) == 0


async def test_resending_a_batch_replaces_rather_than_duplicates(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    for score in (480, 495):
        async with db.transaction(org.id) as session:
            await assessment_flows.record_many(
                session, actor=org.principal(), items=[_diagnostic(student.id, score)]
            )
    async with db.transaction(org.id) as session:
        rows = (await session.execute(select(Assessment.scale_score))).scalars().all()
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "assessment.record")
        )
    assert rows == [495] and audits == 2


async def _record(
    db: Database, kind: str, org: Org, ids: list[uuid.UUID], score: int = 500
) -> None:
    async with db.transaction(org.id) as session:
        if kind == "assessments":
            items = [_diagnostic(i, score) for i in ids]
            await assessment_flows.record_many(session, actor=org.principal(), items=items)
        else:
            yesterday = datetime.now(UTC).date() - timedelta(days=1)  # inside the school year
            codes = {"1": "A"} if score != 500 else {}
            days = [DayInput(i, yesterday, 6, period_codes=codes) for i in ids]
            await attendance_flows.record_days(session, actor=org.principal(), days=days)


@pytest.mark.parametrize("kind", ["assessments", "attendance"])
async def test_batch_statement_count_is_flat(db: Database, kind: str) -> None:
    """Flat whether the batch creates its rows or replaces them with new values."""
    counts = []
    for size in (2, 20):
        org = await make_org(db)
        ids = [(await make_student(db, org)).id for _ in range(size)]
        first = await _statements(db, lambda o=org, i=ids: _record(db, kind, o, i))
        again = await _statements(db, lambda o=org, i=ids: _record(db, kind, o, i, score=510))
        counts.append((first, again))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("size", [1, 2])
async def test_batch_errors_name_the_item_whatever_the_size(db: Database, size: int) -> None:
    org = await make_org(db)
    items = [_diagnostic(uuid.uuid4(), score=50) for _ in range(size)]
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await assessment_flows.record_many(session, actor=org.principal(), items=items)
    assert [e.field for e in refused.value.errors] == [
        f"items[{i}].scaleScore" for i in range(size)
    ] + [f"items[{i}].studentId" for i in range(size)]


async def test_one_assessment_sent_as_an_object_names_plain_fields(
    gql: GraphQLClient, org: Org
) -> None:
    body = await gql(
        """mutation($id: ID!) { recordAssessment(input: {studentId: $id, kind: DIAGNOSTIC,
             subject: "MATH", takenOn: "2026-10-01", scaleScore: 50}) { errors { field code } } }""",
        {"id": to_global_id("Student", uuid.uuid4())},
        token=org.token(),
    )
    assert body["data"]["recordAssessment"]["errors"] == [
        {"field": "scaleScore", "code": "OUT_OF_RANGE"},
        {"field": "studentId", "code": "NOT_FOUND"},
    ]
