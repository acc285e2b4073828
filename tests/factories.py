"""Rows built through the real services, in real transactions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentKind
from app.students import service as students
from app.students.models import Student
from tests.conftest import Org


async def make_student(db: Database, org: Org, **overrides: Any) -> Student:
    data = students.StudentData(
        external_id=overrides.pop("external_id", "X" + uuid.uuid4().hex[:8]),
        name=overrides.pop("name", "Test Student"),
        class_code=overrides.pop("class_code", "7A"),
        year_group=overrides.pop("year_group", 7),
        **overrides,
    )
    async with db.transaction(org.id) as session:
        student, _ = await students.upsert(session, actor=org.principal(), data=data)
    return student


async def log(
    db: Database,
    org: Org,
    student_id: uuid.UUID,
    kind: IncidentKind = IncidentKind.NEGATIVE,
    occurred_at: datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> Incident:
    async with db.transaction(org.id) as session:
        result = await flows.log_incident(
            session,
            actor=org.principal(),
            data=incidents.IncidentData(
                student_id=student_id,
                kind=kind,
                category="disruptive",
                occurred_at=occurred_at,
                client_id=client_id,
            ),
        )
    return result.incident
