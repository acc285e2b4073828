from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from app.graphql.incidents.types import IncidentKind
from app.graphql.relay import parse_id
from app.incidents.service import Correction, IncidentData
from app.incidents.service import IncidentFilter as IncidentFilterData


@strawberry.input
class LogIncidentInput:
    student_id: strawberry.ID
    kind: IncidentKind  # type: ignore[valid-type]
    category: str
    note: str | None = None
    points: int | None = strawberry.field(
        default=None, description="House points; defaults by kind (org policy)."
    )
    class_code: str | None = None
    lesson_session_id: str | None = None
    occurred_at: datetime | None = strawberry.field(default=None, description="Defaults to now.")
    client_id: uuid.UUID | None = strawberry.field(
        default=None,
        description="Client-generated id: resending the same incident creates nothing new "
        "(created: false); the same id with a different payload is an IDEMPOTENCY_CONFLICT "
        "error on clientId.",
    )
    antecedent: str | None = None
    behaviour: str | None = None
    consequence: str | None = None

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
    items: list[LogIncidentInput]


@strawberry.input
class UpdateIncidentInput:
    id: strawberry.ID
    parent_meeting_scheduled: bool | None = None
    hod_consulted: bool | None = None
    admin_notified: bool | None = None


@strawberry.input
class VoidIncidentInput:
    id: strawberry.ID
    reason: str = strawberry.field(description="Why it is void (1 to 500 characters).")


@strawberry.input(description="Give at least one field; those left out stay as they are.")
class CorrectIncidentInput:
    id: strawberry.ID
    category: str | None = None
    note: str | None = strawberry.field(
        default=None, description="An empty string clears the note."
    )
    kind: IncidentKind | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Points follow the kind when they were the old kind's default.",
    )
    occurred_at: datetime | None = None

    def to_data(self) -> Correction:
        return Correction(
            category=self.category, note=self.note, kind=self.kind, occurred_at=self.occurred_at
        )


@strawberry.input
class IncidentFilter:
    student_id: strawberry.ID | None = None
    class_code: str | None = None
    kind: IncidentKind | None = None  # type: ignore[valid-type]
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = strawberry.field(
        default=None, name="from"
    )
    to: datetime | None = None
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
