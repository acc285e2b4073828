from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

from app.risk.models import RiskAssessment as RiskAssessmentModel
from app.risk.service import Indicator
from app.risk.trajectory import HORIZON_WEEKS, Trajectory
from app.risk.trajectory import Direction as _Direction
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


RiskDirection = strawberry.enum(
    _Direction,
    name="RiskDirection",
    description="Where an indicator is heading, from its weekly series' least-squares slope "
    "(a slope within the indicator's stable band is STABLE).",
)


@strawberry.type(description="One local week's value (null: nothing recorded that week).")
class RiskWeek:
    week_start: date = strawberry.field(description="The Monday of the org's local week.")
    value: float | None


@strawberry.type(description="One indicator's weekly series and where it is heading.")
class IndicatorTrajectory:
    indicator: RiskIndicator  # type: ignore[valid-type]
    unit: str
    weeks: list[RiskWeek] = strawberry.field(description="Oldest first; this week last.")
    slope: float | None = strawberry.field(description="Per week; null with under 2 weeks known.")
    direction: RiskDirection | None  # type: ignore[valid-type]
    current: float | None = strawberry.field(description="The latest known week's value.")
    projected: float | None = strawberry.field(
        description="The series' line, horizonWeeks after this week."
    )
    projected_triggered: bool = strawberry.field(
        description="Whether this indicator's factor triggers at the projected value."
    )
    explanation: str


@strawberry.type(
    description="Where the student's risk is heading: each indicator's weekly series and "
    "direction, and the tier reached in horizonWeeks if the trends continue, by the same "
    "thresholds as the current tier. `drivers` and `explanation` say why."
)
class RiskTrajectory:
    weeks: int
    horizon_weeks: int
    current_tier: int
    projected_tier: int
    indicators: list[IndicatorTrajectory]
    drivers: list[RiskIndicator] = strawberry.field(  # type: ignore[valid-type]
        description="The indicators whose factor triggers in the projection."
    )
    explanation: str

    @classmethod
    def from_trajectory(cls, t: Trajectory) -> RiskTrajectory:
        return cls(
            weeks=t.weeks,
            horizon_weeks=HORIZON_WEEKS,
            current_tier=t.current_tier,
            projected_tier=t.projected_tier,
            indicators=[
                IndicatorTrajectory(
                    indicator=i.indicator,
                    unit=i.unit,
                    weeks=[RiskWeek(week_start=p.week_start, value=p.value) for p in i.points],
                    slope=i.slope,
                    direction=i.direction,
                    current=i.current,
                    projected=i.projected,
                    projected_triggered=i.projected_triggered,
                    explanation=i.explanation,
                )
                for i in t.indicators
            ],
            drivers=list(t.drivers),
            explanation=t.explanation,
        )
