from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.risk.models import RiskAssessment as RiskAssessmentModel
from app.risk.service import Indicator
from app.students.models import Student as StudentModel

RiskIndicator = strawberry.enum(Indicator, name="RiskIndicator")


@strawberry.type(description="One early-warning indicator: its value against its threshold.")
class RiskFactor:
    indicator: RiskIndicator  # type: ignore[valid-type]
    value: float | None
    threshold: float
    triggered: bool
    detail: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RiskFactor:
        return cls(
            indicator=Indicator(raw["indicator"]),
            value=raw.get("value"),
            threshold=float(raw["threshold"]),
            triggered=bool(raw.get("triggered")),
            detail=str(raw.get("detail", "")),
        )


@strawberry.type(description="A risk assessment (MTSS tier 1-3) and why.")
class Risk:
    tier: int
    score: float
    computed_at: datetime | None
    trigger: str | None
    all_factors: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field(description="The indicators that contributed (were triggered).")
    def factors(self) -> list[RiskFactor]:
        return [RiskFactor.from_json(f) for f in self.all_factors if f.get("triggered")]

    @strawberry.field(description="Every indicator evaluated, triggered or not.")
    def indicators(self) -> list[RiskFactor]:
        return [RiskFactor.from_json(f) for f in self.all_factors]

    @classmethod
    def current(cls, student: StudentModel) -> Risk:
        return cls(
            tier=student.risk_tier,
            score=float(student.risk_score),
            computed_at=student.risk_computed_at,
            trigger=None,
            all_factors=student.risk_factors,
        )

    @classmethod
    def from_history(cls, row: RiskAssessmentModel) -> Risk:
        return cls(
            tier=row.tier,
            score=float(row.score),
            computed_at=row.computed_at,
            trigger=row.trigger,
            all_factors=row.factors,
        )
