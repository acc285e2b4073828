"""Recording assessments (i-Ready diagnostics and generic ones)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from app.assessments import flows, service
from app.core import contracts as C
from app.graphql.assessments.types import Assessment, AssessmentKind
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.relay import parse_id


@strawberry.input
class RecordAssessmentInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    kind: AssessmentKind  # type: ignore[valid-type]
    subject: str = limited(C.Subject, description="ELA (or Reading), MATH, or any for generic.")
    taken_on: date = limited(C.SchoolDate)
    name: str | None = limited(C.Name, default=None)
    academic_year: str | None = limited(
        C.AcademicYear,
        default=None,
        description="e.g. 2025-2026; derived from takenOn (years start 1 August).",
    )
    score: float | None = limited(C.Score, default=None)
    max_score: float | None = limited(C.Score, default=None)
    scale_score: int | None = limited(
        C.ScaleScore, default=None, description="i-Ready: 100 to 800."
    )
    placement: str | None = limited(C.Placement, default=None, description="e.g. Early 7.")
    relative_placement: str | None = limited(
        C.RelativePlacement, default=None, description="e.g. 2 Grade Levels Below."
    )
    percentile: int | None = limited(C.Percentile, default=None)
    lexile: str | None = limited(C.Measure, default=None)
    quantile: str | None = limited(C.Measure, default=None)
    typical_growth: int | None = limited(C.Growth, default=None)
    domain_scores: JSON | None = limited(
        C.Scores, default=None, description="Domain names to scores (numbers or short text)."
    )

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
