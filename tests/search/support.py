"""Writing what staff write, through the real services, and indexing it as the worker does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.config import Settings
from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import IncidentKind
from app.interventions import service as interventions
from app.search import embeddings, service
from app.students import service as students
from tests.conftest import Org
from tests.factories import make_student


@dataclass
class Written:
    """What one test wrote: its students by name, and each note's key -> (type, source id)."""

    students: dict[str, uuid.UUID] = field(default_factory=dict)
    sources: dict[str, tuple[str, uuid.UUID]] = field(default_factory=dict)

    def key_of(self, source_id: uuid.UUID) -> str | None:
        for key, (_, sid) in self.sources.items():
            if sid == source_id:
                return key
        return None


async def student(db: Database, org: Org, written: Written, name: str, **extra: Any) -> uuid.UUID:
    if name not in written.students:
        written.students[name] = (await make_student(db, org, name=name, **extra)).id
    return written.students[name]


async def incident(
    db: Database,
    org: Org,
    student_id: uuid.UUID,
    note: str,
    *,
    category: str = "Disruption",
    kind: IncidentKind = IncidentKind.NEGATIVE,
    source: str = "console",
    days_ago: int = 0,
) -> uuid.UUID:
    async with db.transaction(org.id) as session:
        result = await flows.log_incident(
            session,
            actor=org.principal(),
            data=incidents.IncidentData(
                student_id=student_id,
                kind=kind,
                category=category,
                note=note,
                source=source,
                occurred_at=datetime.now(UTC) - timedelta(days=days_ago, minutes=1),
            ),
        )
    return result.incident.id


async def support_notes(db: Database, org: Org, student_id: uuid.UUID, notes: str | None) -> None:
    async with db.transaction(org.id) as session:
        current = await students.require(session, org_id=org.id, student_id=student_id)
        await students.upsert(
            session,
            actor=org.principal(),
            data=students.StudentData(
                external_id=current.external_id, name=current.name, support_notes=notes
            ),
        )


async def intervention(
    db: Database, org: Org, student_id: uuid.UUID, kind: str, notes: str
) -> uuid.UUID:
    async with db.transaction(org.id) as session:
        row = await interventions.create(
            session,
            actor=org.principal(),
            student_id=student_id,
            changes=interventions.InterventionChanges(tier=2, type=kind, notes=notes),
        )
    return row.id


async def index(db: Database, org: Org, settings: Settings | None = None) -> service.Indexed:
    provider = embeddings.provider(settings or Settings(database_url=None, redis_url=None))
    return await service.index_pending(db, provider, org.id)
