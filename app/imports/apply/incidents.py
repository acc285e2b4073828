"""A batch of historical incidents, through the console's own journey."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ServiceError
from app.imports.apply.common import (
    Change,
    Header,
    Keys,
    Outcome,
    latest_of,
    students_by_external_id,
    unmapped,
)
from app.imports.formats import (
    IncidentRecord,
)
from app.incidents import flows as incident_flows
from app.incidents import service as incidents

# Each row's client id is derived from what it says, so a row imported again (this file or
# another export that repeats it) is the same incident, logged once: idempotent per row.
_INCIDENT_ROW = uuid.UUID("6b0c5d3e-1f5e-4c55-9d8e-6f1d0f5b7a21")


def incident_client_id(org_id: uuid.UUID, record: IncidentRecord) -> uuid.UUID:
    fields = (
        str(org_id),
        record.external_id,
        record.occurred_at.isoformat(),
        record.kind.value,
        record.category,
        str(record.points),
        record.note or "",
        record.class_code or "",
    )
    return uuid.uuid5(_INCIDENT_ROW, "\x1f".join(fields))


async def historical_incidents(
    session: AsyncSession,
    *,
    actor: Principal,
    records: Sequence[IncidentRecord],
    seen: Keys,
    header: Header,
) -> Outcome:
    """Through the console's own journey (strikes, house points, risk, events), one row at
    a time, each in a savepoint: a refused row leaves the others standing."""
    out = Outcome()
    latest = await latest_of(
        session, records, lambda r: incident_client_id(actor.org_id, r), seen, out
    )
    stored = await students_by_external_id(session, actor.org_id, {r.external_id for r in latest})
    for record in sorted(latest, key=lambda r: r.occurred_at):
        student = stored.get(record.external_id)
        if student is None:
            unmapped(record, out, header)
            continue
        data = incidents.IncidentData(
            student_id=student.id,
            kind=record.kind,
            category=record.category,
            note=record.note,
            points=record.points,
            class_code=record.class_code,
            occurred_at=record.occurred_at,
            client_id=incident_client_id(actor.org_id, record),
            source="import",
        )
        try:
            async with session.begin_nested():
                logged = await incident_flows.log_incident(session, actor=actor, data=data)
        except ServiceError as exc:
            out.reject(record, exc.errors, header)
            continue
        if not logged.created:
            out.unchanged += 1
            continue
        out.inserted += 1
        out.changes.append(Change("incidents", logged.incident.id, student.id, None))
    return out
