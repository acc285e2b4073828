from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.graphql.relay import Node, to_global_id
from app.graphql.students.fields import resolve_student
from app.interventions.models import Intervention as InterventionModel
from app.interventions.models import InterventionStatus as _Status

InterventionStatus = strawberry.enum(_Status, name="InterventionStatus")


@strawberry.type(description="A support put in place for a student (MTSS tier 1-3).")
class Intervention(Node):
    model: strawberry.Private[InterventionModel]
    tier: int
    type: str
    status: InterventionStatus  # type: ignore[valid-type]
    owner: str | None
    notes: str | None
    start_date: date
    end_date: date | None
    created_at: datetime

    student = strawberry.field(resolver=resolve_student)

    @classmethod
    def from_model(cls, row: InterventionModel) -> Intervention:
        return cls(
            model=row,
            id=to_global_id("Intervention", row.id),
            tier=row.tier,
            type=row.type,
            status=row.status,
            owner=row.owner,
            notes=row.notes,
            start_date=row.start_date,
            end_date=row.end_date,
            created_at=row.created_at,
        )
