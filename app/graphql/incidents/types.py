from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.graphql.relay import Connection, Node, to_global_id
from app.graphql.students.fields import resolve_student
from app.incidents.corrections import StrikeChange as Change
from app.incidents.models import Incident as IncidentModel
from app.incidents.models import IncidentKind as _Kind

IncidentKind = strawberry.enum(_Kind, name="IncidentKind")


@strawberry.type(description="A behaviour incident (positive, negative or neutral).")
class Incident(Node):
    model: strawberry.Private[IncidentModel]
    kind: IncidentKind  # type: ignore[valid-type]
    category: str
    points: int
    note: str | None
    class_code: str | None
    lesson_session_id: str | None
    occurred_at: datetime
    antecedent: str | None
    behaviour: str | None
    consequence: str | None
    source: str
    client_id: uuid.UUID | None
    logged_by: str | None
    strike_level: int | None = strawberry.field(description="1-3 for negatives, else null.")
    consequence_text: str | None
    admin_notified: bool
    hod_consulted: bool
    parent_meeting_scheduled: bool
    created_at: datetime
    voided: bool = strawberry.field(
        description="A void incident stays in the record but counts for nothing: no strike "
        "effect, no house points, no risk."
    )
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None

    student = strawberry.field(resolver=resolve_student)

    @classmethod
    def from_model(cls, row: IncidentModel) -> Incident:
        return cls(
            model=row,
            id=to_global_id("Incident", row.id),
            kind=row.kind,
            category=row.category,
            points=row.points,
            note=row.note,
            class_code=row.class_code,
            lesson_session_id=row.lesson_session_id,
            occurred_at=row.occurred_at,
            antecedent=row.antecedent,
            behaviour=row.behaviour,
            consequence=row.consequence,
            source=row.source,
            client_id=row.client_id,
            logged_by=row.logged_by,
            strike_level=row.strike_level,
            consequence_text=row.consequence_text,
            admin_notified=row.admin_notified,
            hod_consulted=row.hod_consulted,
            parent_meeting_scheduled=row.parent_meeting_scheduled,
            created_at=row.created_at,
            voided=row.voided,
            voided_at=row.voided_at,
            voided_by=row.voided_by,
            void_reason=row.void_reason,
        )


@strawberry.type(
    description="An incident whose strike was recomputed after a void, a correction, or "
    "the logging of a negative timed before it (offline sync)."
)
class StrikeChange:
    incident: Incident
    previous_strike: int | None
    strike: int | None = strawberry.field(description="Null when it is no longer a negative.")

    @classmethod
    def from_change(cls, change: Change) -> StrikeChange:
        return cls(
            incident=Incident.from_model(change.incident),
            previous_strike=change.previous,
            strike=change.strike,
        )


IncidentConnection = Connection[Incident]
