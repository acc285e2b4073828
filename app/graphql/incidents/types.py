from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.graphql.compiled.declarations import (
    Column,
    ResolverOnly,
    RowType,
    Scalar,
    ToOne,
    column,
    column_name,
    global_id,
    register,
)
from app.graphql.relay import Connection, Node
from app.graphql.search.fields import resolve_similar
from app.graphql.students.fields import resolve_student
from app.incidents.corrections import StrikeChange as Change
from app.incidents.models import Incident as IncidentModel
from app.incidents.models import IncidentKind as _Kind

IncidentKind = strawberry.enum(_Kind, name="IncidentKind")


# The fields' columns, declared once for both read paths (app.graphql.compiled.declarations):
# from_model takes its values from here, the compiler its SQL.
INC = IncidentModel

INCIDENT = register(
    RowType(
        name="Incident",
        table=INC.__tablename__,
        fields={
            "id": global_id("Incident"),
            "kind": column(INC.kind, Scalar.ENUM, "IncidentKind"),
            "category": column(INC.category, Scalar.STRING),
            "points": column(INC.points, Scalar.INT),
            "note": column(INC.note, Scalar.STRING),
            "classCode": column(INC.class_code, Scalar.STRING),
            "lessonSessionId": column(INC.lesson_session_id, Scalar.STRING),
            "occurredAt": column(INC.occurred_at, Scalar.DATETIME),
            "antecedent": column(INC.antecedent, Scalar.STRING),
            "behaviour": column(INC.behaviour, Scalar.STRING),
            "consequence": column(INC.consequence, Scalar.STRING),
            "source": column(INC.source, Scalar.STRING),
            "clientId": column(INC.client_id, Scalar.UUID),
            "loggedBy": column(INC.logged_by, Scalar.STRING),
            "strikeLevel": column(INC.strike_level, Scalar.INT),
            "consequenceText": column(INC.consequence_text, Scalar.STRING),
            "adminNotified": column(INC.admin_notified, Scalar.BOOLEAN),
            "hodConsulted": column(INC.hod_consulted, Scalar.BOOLEAN),
            "parentMeetingScheduled": column(INC.parent_meeting_scheduled, Scalar.BOOLEAN),
            "createdAt": column(INC.created_at, Scalar.DATETIME),
            # The model's `voided` property.
            "voided": Column(
                "({t}.voided_at IS NOT NULL)",
                ("voided_at",),
                Scalar.BOOLEAN,
                "Boolean",
                never_null=True,
                attribute="voided",
            ),
            "voidedAt": column(INC.voided_at, Scalar.DATETIME),
            "voidedBy": column(INC.voided_by, Scalar.STRING),
            "voidReason": column(INC.void_reason, Scalar.STRING),
            "student": ToOne("Student", column_name(INC.student_id)),
            "similar": ResolverOnly("search embeds and ranks in its own statement"),
        },
    )
)


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
    similar = strawberry.field(
        resolver=resolve_similar,
        description="Incidents whose notes read most like this one's (search's index).",
    )

    @classmethod
    def from_model(cls, row: IncidentModel) -> Incident:
        return cls(model=row, **INCIDENT.field_values(row, cls))


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
