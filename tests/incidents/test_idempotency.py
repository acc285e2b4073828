"""clientId makes logging idempotent, also when the resends race; a resend must send the same."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEntry
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentKind
from app.students.models import Student
from tests.conftest import make_org
from tests.factories import log, make_student
from tests.incidents.support import correct, log_logged


async def _counts(db: Database, org_id: uuid.UUID, student_id: uuid.UUID) -> tuple[int, int]:
    async with db.transaction(org_id) as session:
        incidents = await session.scalar(
            select(func.count()).select_from(Incident).where(Incident.student_id == student_id)
        )
        points = await session.scalar(select(Student.house_points).where(Student.id == student_id))
    return int(incidents or 0), int(points or 0)


async def _log_audits(db: Database, org_id: uuid.UUID) -> int:
    async with db.transaction(org_id) as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "incident.log")
        )
    return int(count or 0)


def _conflict(exc: BaseException) -> bool:
    return isinstance(exc, ServiceError) and [(e.field, e.code) for e in exc.errors] == [
        ("clientId", ErrorCode.IDEMPOTENCY_CONFLICT)
    ]


async def test_resend_returns_the_first_and_writes_nothing(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    first = await log(db, org, student.id, client_id=client_id)
    again = await log(db, org, student.id, client_id=client_id)
    assert again.id == first.id
    assert await _counts(db, org.id, student.id) == (1, -1)
    async with db.transaction(org.id) as session:
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity_id == first.id, AuditEntry.action == "incident.log")
        )
    assert audits == 1


async def test_same_payload_with_every_field_is_the_same_incident(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    at = datetime.now(UTC) - timedelta(minutes=7)
    payload = {
        "client_id": client_id,
        "category": " late ",
        "note": "arrived after the bell",
        "points": -2,
        "class_code": "7B",
        "lesson_session_id": "L-42",
        "occurred_at": at,
        "antecedent": "a",
        "behaviour": "b",
        "consequence": "c",
    }
    first = await log_logged(db, org, student.id, **payload)
    # The same instant in another offset is the same payload.
    again = await log_logged(
        db,
        org,
        student.id,
        **{**payload, "occurred_at": at.astimezone(timezone(timedelta(hours=2)))},
    )
    assert first.created and not again.created
    assert again.incident.id == first.incident.id
    assert first.incident.client_fingerprint is not None
    assert len(first.incident.client_fingerprint) == 64
    assert await _counts(db, org.id, student.id) == (1, -2)


@pytest.mark.parametrize(
    "change",
    [
        {"student": True},
        {"category": "late"},
        {"kind": IncidentKind.POSITIVE},
        {"note": "another note"},
        {"points": -3},
        {"occurred_at": datetime.now(UTC) - timedelta(hours=2)},
    ],
    ids=["student", "category", "kind", "note", "points", "occurredAt"],
)
async def test_same_client_id_with_another_payload_is_a_conflict(
    db: Database, change: dict[str, object]
) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    other = await make_student(db, org)
    client_id = uuid.uuid4()
    first = await log_logged(db, org, student.id, client_id=client_id)
    fields = {k: v for k, v in change.items() if k != "student"}
    target = other.id if change.get("student") else student.id
    with pytest.raises(ServiceError) as caught:
        await log_logged(db, org, target, client_id=client_id, **fields)
    assert _conflict(caught.value)
    assert await _counts(db, org.id, student.id) == (1, -1)
    assert await _counts(db, org.id, other.id) == (0, 0)
    assert await _log_audits(db, org.id) == 1
    assert first.incident.client_id == client_id


async def test_resend_compares_what_was_sent_not_the_corrected_row(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    first = await log_logged(db, org, student.id, client_id=client_id, category="late")
    await correct(db, org, first.incident.id, category="disruptive")
    again = await log_logged(db, org, student.id, client_id=client_id, category="late")
    assert not again.created and again.incident.id == first.incident.id
    assert again.incident.category == "disruptive"  # the incident as it is now
    with pytest.raises(ServiceError) as caught:
        await log_logged(db, org, student.id, client_id=client_id, category="disruptive")
    assert _conflict(caught.value)


async def test_incidents_logged_before_fingerprints_match_any_resend(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    first = await log_logged(db, org, student.id, client_id=client_id)
    async with db.transaction(org.id) as session:
        await session.execute(
            update(Incident).where(Incident.id == first.incident.id).values(client_fingerprint=None)
        )
    again = await log_logged(db, org, student.id, client_id=client_id, category="late")
    assert not again.created and again.incident.id == first.incident.id


async def test_concurrent_resends_create_one_incident(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    results = await asyncio.gather(
        *(log_logged(db, org, student.id, client_id=client_id) for _ in range(10))
    )
    assert len({r.incident.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await _counts(db, org.id, student.id) == (1, -1)
    assert await _log_audits(db, org.id) == 1


async def test_concurrent_sends_of_two_payloads_with_one_client_id(db: Database) -> None:
    org = await make_org(db)
    a = await make_student(db, org)
    b = await make_student(db, org)
    client_id = uuid.uuid4()
    results = await asyncio.gather(
        *(log_logged(db, org, (a, b)[i % 2].id, client_id=client_id) for i in range(10)),
        return_exceptions=True,
    )
    logged = [r for r in results if isinstance(r, flows.LoggedIncident)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(_conflict(r) for r in refused), refused
    assert len({r.incident.id for r in logged}) == 1 and sum(r.created for r in logged) == 1
    winner = logged[0].incident.student_id
    assert len(logged) == 5 and len(refused) == 5  # the winner's five sends, the other's five
    assert (await _counts(db, org.id, a.id))[0] + (await _counts(db, org.id, b.id))[0] == 1
    assert (await _counts(db, org.id, winner))[0] == 1


async def test_the_unique_violation_path_checks_the_payload_too(db: Database) -> None:
    """The loser of an insert race (another student, so not held back by the student lock)
    hits the unique constraint, finds the winner, and compares fingerprints."""
    org = await make_org(db)
    a = await make_student(db, org)
    b = await make_student(db, org)
    client_id = uuid.uuid4()

    def data(student_id: uuid.UUID) -> incidents.IncidentData:
        return incidents.IncidentData(
            student_id=student_id,
            kind=IncidentKind.NEGATIVE,
            category="disruptive",
            client_id=client_id,
        )

    async def loser() -> flows.LoggedIncident:
        async with db.transaction(org.id) as session:
            return await flows.log_incident(session, actor=org.principal(), data=data(b.id))

    async with db.transaction(org.id) as session:
        await flows.log_incident(session, actor=org.principal(), data=data(a.id))
        racing = asyncio.create_task(loser())
        await asyncio.sleep(0.5)
        assert not racing.done()  # waiting on the uncommitted insert's unique key
    with pytest.raises(ServiceError) as caught:
        await racing
    assert _conflict(caught.value)
    assert await _counts(db, org.id, a.id) == (1, -1)
    assert await _counts(db, org.id, b.id) == (0, 0)
