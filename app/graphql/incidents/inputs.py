from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from app.core import contracts as C
from app.graphql.contracts import limited
from app.graphql.incidents.types import IncidentKind
from app.graphql.relay import parse_id
from app.incidents.service import Correction, IncidentData
from app.incidents.service import IncidentFilter as IncidentFilterData


@strawberry.input
class LogIncidentInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    kind: IncidentKind  # type: ignore[valid-type]
    category: str = limited(C.Category)
    note: str | None = limited(C.Note, default=None)
    points: int | None = limited(
        C.Points, default=None, description="House points; defaults by kind (org policy)."
    )
    class_code: str | None = limited(C.ClassCode, default=None)
    lesson_session_id: str | None = limited(C.SessionId, default=None)
    occurred_at: datetime | None = limited(
        C.Instant, default=None, description="Defaults to now; not in the future."
    )
    client_id: uuid.UUID | None = strawberry.field(
        default=None,
        description="Client-generated id: resending the same incident creates nothing new "
        "(created: false); the same id with a different payload is an IDEMPOTENCY_CONFLICT "
        "error on clientId.",
    )
    antecedent: str | None = limited(C.AbcNote, default=None)
    behaviour: str | None = limited(C.AbcNote, default=None)
    consequence: str | None = limited(C.AbcNote, default=None)

    def to_data(self, source: str = "console") -> IncidentData:
        return IncidentData(
            student_id=parse_id(self.student_id, "Student", "studentId"),
            kind=self.kind,
            category=self.category,
            note=self.note,
            points=self.points,
            class_code=self.class_code,
            lesson_session_id=self.lesson_session_id,
            occurred_at=self.occurred_at,
            client_id=self.client_id,
            antecedent=self.antecedent,
            behaviour=self.behaviour,
            consequence=self.consequence,
            source=source,
        )


@strawberry.input
class LogIncidentsInput:
    items: list[LogIncidentInput] = limited(C.IncidentBatch)


@strawberry.input
class UpdateIncidentInput:
    id: strawberry.ID = limited(C.GlobalId)
    parent_meeting_scheduled: bool | None = None
    hod_consulted: bool | None = None
    admin_notified: bool | None = None


@strawberry.input
class VoidIncidentInput:
    id: strawberry.ID = limited(C.GlobalId)
    reason: str = limited(C.Reason, description="Why it is void (required).")


@strawberry.input(description="Give at least one field; those left out stay as they are.")
class CorrectIncidentInput:
    id: strawberry.ID = limited(C.GlobalId)
    category: str | None = limited(C.Category, default=None)
    note: str | None = limited(C.Note, default=None, description="An empty string clears the note.")
    kind: IncidentKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Points follow the kind when they were the old kind's default.",
    )
    occurred_at: datetime | None = limited(C.Instant, default=None)

    def to_data(self) -> Correction:
        return Correction(
            category=self.category, note=self.note, kind=self.kind, occurred_at=self.occurred_at
        )


@strawberry.input
class IncidentFilter:
    student_id: strawberry.ID | None = limited(C.GlobalId, default=None)
    class_code: str | None = limited(C.ClassCode, default=None)
    kind: IncidentKind | None = None  # type: ignore[valid-type]
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = limited(
        C.Instant, default=None, name="from"
    )
    to: datetime | None = limited(C.Instant, default=None)
    voided: bool | None = strawberry.field(
        default=None, description="true: only void incidents; false: none; null: all."
    )

    def to_data(self) -> IncidentFilterData:
        return IncidentFilterData(
            student_id=parse_id(self.student_id, "Student", "filter.studentId")
            if self.student_id
            else None,
            class_code=self.class_code,
            kind=self.kind,
            start=self.from_,
            end=self.to,
            voided=self.voided,
        )
