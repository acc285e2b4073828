"""Helpers for the incident tests: log with any payload, void, correct, read back."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import Incident, IncidentKind
from app.students.models import Student
from tests.conftest import Org


async def log_logged(
    db: Database, org: Org, student_id: uuid.UUID, **fields: Any
) -> flows.LoggedIncident:
    data = incidents.IncidentData(
        student_id=student_id,
        kind=fields.pop("kind", IncidentKind.NEGATIVE),
        category=fields.pop("category", "disruptive"),
        **fields,
    )
    async with db.transaction(org.id) as session:
        return await flows.log_incident(session, actor=org.principal(), data=data)


async def void(
    db: Database, org: Org, incident_id: uuid.UUID, reason: str = "logged for the wrong student"
) -> flows.ChangedIncident:
    async with db.transaction(org.id) as session:
        return await flows.void_incident(
            session, actor=org.principal(), incident_id=incident_id, reason=reason
        )


async def correct(
    db: Database, org: Org, incident_id: uuid.UUID, **fields: Any
) -> flows.ChangedIncident:
    async with db.transaction(org.id) as session:
        return await flows.correct_incident(
            session,
            actor=org.principal(),
            incident_id=incident_id,
            correction=incidents.Correction(**fields),
        )


async def incidents_of(db: Database, org: Org, student_id: uuid.UUID) -> list[Incident]:
    """The student's incidents, oldest first."""
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(Incident)
            .where(Incident.student_id == student_id)
            .order_by(Incident.occurred_at, Incident.id)
        )
        return list(rows.scalars())


async def student_row(db: Database, org: Org, student_id: uuid.UUID) -> Student:
    async with db.transaction(org.id) as session:
        return (await session.execute(select(Student).where(Student.id == student_id))).scalar_one()


def changes(
    result: flows.ChangedIncident | flows.LoggedIncident,
) -> list[tuple[uuid.UUID, int | None, int | None]]:
    return [(c.incident.id, c.previous, c.strike) for c in result.strike_changes]
