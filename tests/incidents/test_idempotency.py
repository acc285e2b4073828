"""clientId makes logging idempotent, also when the resends race."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.incidents.models import Incident
from app.students.models import Student
from tests.conftest import make_org
from tests.factories import log, make_student


async def _counts(db: Database, org_id: uuid.UUID, student_id: uuid.UUID) -> tuple[int, int]:
    async with db.transaction(org_id) as session:
        incidents = await session.scalar(
            select(func.count()).select_from(Incident).where(Incident.student_id == student_id)
        )
        points = await session.scalar(select(Student.house_points).where(Student.id == student_id))
    return int(incidents or 0), int(points or 0)


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


async def test_concurrent_resends_create_one_incident(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    results = await asyncio.gather(
        *(log(db, org, student.id, client_id=client_id) for _ in range(6))
    )
    assert len({r.id for r in results}) == 1
    assert await _counts(db, org.id, student.id) == (1, -1)


async def test_same_client_id_for_two_students_concurrently(db: Database) -> None:
    org = await make_org(db)
    a = await make_student(db, org)
    b = await make_student(db, org)
    client_id = uuid.uuid4()
    results = await asyncio.gather(
        log(db, org, a.id, client_id=client_id), log(db, org, b.id, client_id=client_id)
    )
    assert results[0].id == results[1].id
    total = (await _counts(db, org.id, a.id))[0] + (await _counts(db, org.id, b.id))[0]
    assert total == 1
