"""Per-org policy: the strike ladder and the risk thresholds, with PTCC/DESIGN defaults.

An org's `settings` JSON may override any key; everything else keeps the default.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from app.core.errors import ErrorCode, FieldError


@dataclass(frozen=True)
class StrikeRung:
    consequence: str
    admin_notified: bool = False
    hod_consulted: bool = False


DEFAULT_RUNGS = (
    StrikeRung("Warning issued"),
    StrikeRung("Second warning - admin notified", admin_notified=True),
    StrikeRung("Third strike - HOD consultation required", hod_consulted=True),
)


@dataclass(frozen=True)
class StrikePolicy:
    """strike = min(prior_negatives_in_window // negatives_per_strike + 1, len(rungs))."""

    window_hours: int = 24
    negatives_per_strike: int = 2
    rungs: tuple[StrikeRung, ...] = DEFAULT_RUNGS

    @property
    def max_strike(self) -> int:
        return len(self.rungs)

    def strike_for(self, prior_negatives: int) -> int:
        return min(prior_negatives // self.negatives_per_strike + 1, self.max_strike)

    def rung(self, strike: int) -> StrikeRung:
        return self.rungs[strike - 1]


@dataclass(frozen=True)
class RiskThresholds:
    behaviour_window_days: int = 7
    behaviour_negatives: int = 3
    strike_level: int = 3
    attendance_window_days: int = 30
    chronic_absence_pct: float = 10.0
    severe_absence_pct: float = 20.0
    grade_levels_below: int = 2


@dataclass(frozen=True)
class HousePoints:
    positive: int = 1
    negative: int = -1
    neutral: int = 0


@dataclass(frozen=True)
class OrgPolicy:
    strikes: StrikePolicy = field(default_factory=StrikePolicy)
    risk: RiskThresholds = field(default_factory=RiskThresholds)
    house_points: HousePoints = field(default_factory=HousePoints)


def _override(default: Any, values: dict[str, Any] | None) -> Any:
    if not values:
        return default
    known = {f.name for f in fields(default)}
    return replace(default, **{k: v for k, v in values.items() if k in known and k != "rungs"})


def policy_from_settings(settings: dict[str, Any] | None) -> OrgPolicy:
    settings = settings or {}
    strikes_cfg = settings.get("strikes") or {}
    strikes: StrikePolicy = _override(StrikePolicy(), strikes_cfg)
    if strikes_cfg.get("rungs"):
        strikes = replace(strikes, rungs=tuple(StrikeRung(**r) for r in strikes_cfg["rungs"]))
    return OrgPolicy(
        strikes=strikes,
        risk=_override(RiskThresholds(), settings.get("risk")),
        house_points=_override(HousePoints(), settings.get("house_points")),
    )


def policy_to_settings(policy: OrgPolicy) -> dict[str, Any]:
    """The JSON stored in orgs.settings (everything explicit, so defaults may change safely)."""
    return {
        "strikes": {
            "window_hours": policy.strikes.window_hours,
            "negatives_per_strike": policy.strikes.negatives_per_strike,
            "rungs": [asdict(r) for r in policy.strikes.rungs],
        },
        "risk": asdict(policy.risk),
        "house_points": asdict(policy.house_points),
    }


def policy_errors(policy: OrgPolicy) -> list[FieldError]:
    """Every reason `policy` cannot work, naming the GraphQL input field."""
    errors: list[FieldError] = []

    def check(path: str, value: float, low: float, high: float) -> None:
        if not low <= value <= high:
            errors.append(
                FieldError(
                    path, f"{path} must be between {low:g} and {high:g}", ErrorCode.OUT_OF_RANGE
                )
            )

    s, r, h = policy.strikes, policy.risk, policy.house_points
    check("strikes.windowHours", s.window_hours, 1, 168)
    check("strikes.negativesPerStrike", s.negatives_per_strike, 1, 10)
    check("strikes.rungs", len(s.rungs), 1, 5)
    for i, rung in enumerate(s.rungs):
        if not rung.consequence.strip() or len(rung.consequence) > 200:
            errors.append(
                FieldError(
                    f"strikes.rungs[{i}].consequence",
                    "a consequence is 1 to 200 characters",
                    ErrorCode.INVALID,
                )
            )
    check("risk.behaviourWindowDays", r.behaviour_window_days, 1, 60)
    check("risk.behaviourNegatives", r.behaviour_negatives, 1, 50)
    check("risk.strikeLevel", r.strike_level, 1, s.max_strike)
    check("risk.attendanceWindowDays", r.attendance_window_days, 5, 200)
    check("risk.chronicAbsencePct", r.chronic_absence_pct, 0.1, 99.9)
    check("risk.severeAbsencePct", r.severe_absence_pct, r.chronic_absence_pct, 100)
    check("risk.gradeLevelsBelow", r.grade_levels_below, 1, 6)
    check("housePoints.positive", h.positive, 0, 100)
    check("housePoints.negative", h.negative, -100, 0)
    check("housePoints.neutral", h.neutral, -100, 100)
    return errors
