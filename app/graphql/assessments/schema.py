"""Recording assessments (i-Ready diagnostics and generic ones)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from app.assessments import flows, service
from app.graphql.assessments.types import Assessment, AssessmentKind
from app.graphql.context import Info
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.relay import parse_id


@strawberry.input
class RecordAssessmentInput:
    student_id: strawberry.ID
    kind: AssessmentKind  # type: ignore[valid-type]
    subject: str = strawberry.field(description="ELA (or Reading), MATH, or any for generic.")
    taken_on: date
    name: str | None = None
    academic_year: str | None = strawberry.field(
        default=None, description="e.g. 2025-2026; derived from takenOn (years start 1 August)."
    )
    score: float | None = None
    max_score: float | None = None
    scale_score: int | None = None
    placement: str | None = None
    relative_placement: str | None = None
    percentile: int | None = None
    lexile: str | None = None
    quantile: str | None = None
    typical_growth: int | None = None
    domain_scores: JSON | None = None

    def to_data(self) -> service.AssessmentData:
        return service.AssessmentData(
            student_id=parse_id(self.student_id, "Student", "studentId"),
            kind=self.kind,
            subject=self.subject,
            taken_on=self.taken_on,
            name=self.name,
            academic_year=self.academic_year,
            score=Decimal(str(self.score)) if self.score is not None else None,
            max_score=Decimal(str(self.max_score)) if self.max_score is not None else None,
            scale_score=self.scale_score,
            placement=self.placement,
            relative_placement=self.relative_placement,
            percentile=self.percentile,
            lexile=self.lexile,
            quantile=self.quantile,
            typical_growth=self.typical_growth,
            domain_scores=self.domain_scores,
        )


@strawberry.type
class RecordAssessmentPayload:
    assessment: Assessment | None
    errors: list[UserError]


@strawberry.type
class AssessmentMutations:
    @strawberry.mutation(permission_classes=[allow(*STAFF)], description=roles_note(*STAFF))
    async def record_assessment(
        self, info: Info, input: RecordAssessmentInput
    ) -> RecordAssessmentPayload:
        result = await in_transaction(
            info, lambda s, actor: flows.record(s, actor=actor, data=input.to_data())
        )
        if isinstance(result, Refused):
            return RecordAssessmentPayload(assessment=None, errors=result.errors)
        return RecordAssessmentPayload(assessment=Assessment.from_model(result), errors=[])
