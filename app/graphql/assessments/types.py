from __future__ import annotations

from datetime import date
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.assessments import service
from app.assessments.models import Assessment as AssessmentModel
from app.assessments.models import AssessmentKind as _Kind
from app.graphql.relay import Node, to_global_id

AssessmentKind = strawberry.enum(_Kind, name="AssessmentKind")


@strawberry.type(description="An i-Ready diagnostic or a generic assessment (exam, probe).")
class Assessment(Node):
    kind: AssessmentKind  # type: ignore[valid-type]
    subject: str
    name: str | None
    taken_on: date
    academic_year: str
    score: float | None
    max_score: float | None
    scale_score: int | None
    placement: str | None
    relative_placement: str | None
    grade_levels_relative: int | None = strawberry.field(
        description="Placement relative to grade: -2 means two grade levels below."
    )
    percentile: int | None
    lexile: str | None
    quantile: str | None
    typical_growth: int | None
    domain_scores: JSON

    @classmethod
    def from_model(cls, row: AssessmentModel) -> Assessment:
        return cls(
            id=to_global_id("Assessment", row.id),
            kind=row.kind,
            subject=row.subject,
            name=row.name,
            taken_on=row.taken_on,
            academic_year=row.academic_year,
            score=float(row.score) if row.score is not None else None,
            max_score=float(row.max_score) if row.max_score is not None else None,
            scale_score=row.scale_score,
            placement=row.placement,
            relative_placement=row.relative_placement,
            grade_levels_relative=row.grade_levels_relative,
            percentile=row.percentile,
            lexile=row.lexile,
            quantile=row.quantile,
            typical_growth=row.typical_growth,
            domain_scores=cast(JSON, row.domain_scores),
        )


@strawberry.type(description="Growth from the first to the latest diagnostic of a year.")
class DiagnosticGrowth:
    subject: str
    academic_year: str
    first_score: int
    latest_score: int
    points: int
    typical_growth: int | None
    percent_of_typical: float | None

    @classmethod
    def from_growth(cls, g: service.Growth) -> DiagnosticGrowth:
        return cls(
            subject=g.subject,
            academic_year=g.academic_year,
            first_score=g.first_score,
            latest_score=g.latest_score,
            points=g.points,
            typical_growth=g.typical_growth,
            percent_of_typical=g.percent_of_typical,
        )
