"""Per-org policy: the strike ladder, the risk thresholds, the attendance calendar and the
org's time zone, with PTCC/DESIGN defaults.

An org's `settings` JSON may override any key; everything else keeps the default.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core import contracts as C
from app.core.errors import ErrorCode, FieldError, text_errors


@dataclass(frozen=True)
class StrikeRung:
    consequence: str
    admin_notified: bool = False
    hod_consulted: bool = False


MIN_RUNGS, MAX_RUNGS = 1, 5
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
    # Fewer recorded school days than this (in the risk window, or a summary's range) are
    # too few to call absence chronic: the band is INSUFFICIENT_DATA and the factor is off.
    min_enrolled_days: int = 10
    # An active IEP goal found off track by this many probes in a row is a risk factor.
    iep_off_track_probes: int = 3


@dataclass(frozen=True)
class HousePoints:
    positive: int = 1
    negative: int = -1
    neutral: int = 0


@dataclass(frozen=True)
class AttendancePolicy:
    """Which days may be recorded: the current school year up to the org's today.

    For the first `correction_grace_days` days of a school year, days of the previous
    school year may still be recorded (late corrections). Never a day after today.
    """

    school_year_start: str = "08-01"  # MM-DD; 1 August, as academic years of assessments
    correction_grace_days: int = 30

    def year_start(self, day: date) -> date:
        """The first day of the school year that `day` belongs to."""
        month, dom = _month_day(self.school_year_start)
        start = date(day.year, month, dom)
        return start if day >= start else date(day.year - 1, month, dom)

    def recordable(self, today: date) -> tuple[date, date]:
        """The first and last day that may be recorded when it is `today` at the org."""
        start = self.year_start(today)
        if (today - start).days < self.correction_grace_days:
            start = self.year_start(start - timedelta(days=1))
        return start, today


_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _month_day(value: object) -> tuple[int, int]:
    """'08-01' -> (8, 1); ValueError unless it is a day every year has (so not 02-29)."""
    m = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"not a MM-DD month and day: {value!r}")
    month, dom = int(m.group(1)), int(m.group(2))
    date(2001, month, dom)  # raises ValueError for 13-01, 04-31, 02-29
    return month, dom


@dataclass(frozen=True)
class RetentionPolicy:
    """How long the school keeps each kind of record (null: no limit). A daily job deletes
    what is older (app.records.retention)."""

    incidents_years: int | None = None
    attendance_years: int | None = None
    audit_years: int | None = None
    events_days: int | None = None


@dataclass(frozen=True)
class OrgPolicy:
    strikes: StrikePolicy = field(default_factory=StrikePolicy)
    risk: RiskThresholds = field(default_factory=RiskThresholds)
    house_points: HousePoints = field(default_factory=HousePoints)
    attendance: AttendancePolicy = field(default_factory=AttendancePolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    timezone: str = "UTC"  # IANA name: the org's "today" and its local midnight


def org_zone(policy: OrgPolicy) -> ZoneInfo:
    return ZoneInfo(policy.timezone)


def local_today(policy: OrgPolicy, now: datetime) -> date:
    """The org's calendar date at the instant `now` (a naive `now` is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(org_zone(policy)).date()


def local_midnight(policy: OrgPolicy, now: datetime) -> datetime:
    """The instant the org's local day containing `now` began, timezone-aware.

    Where a DST change skips midnight the day starts at the first local time that exists
    (the UTC round trip moves 00:00 forward); where midnight repeats, the first one counts.
    """
    zone = org_zone(policy)
    start = datetime.combine(local_today(policy, now), time(0), tzinfo=zone)
    return start.astimezone(UTC).astimezone(zone)


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
        attendance=_override(AttendancePolicy(), settings.get("attendance")),
        retention=_override(RetentionPolicy(), settings.get("retention")),
        timezone=settings.get("timezone", OrgPolicy.timezone),
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
        "attendance": asdict(policy.attendance),
        "retention": asdict(policy.retention),
        "timezone": policy.timezone,
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

    s, r, h, a = policy.strikes, policy.risk, policy.house_points, policy.attendance
    check("strikes.windowHours", s.window_hours, *C.WindowHours.bounds)
    check("strikes.negativesPerStrike", s.negatives_per_strike, *C.NegativesPerStrike.bounds)
    ladder_ok = MIN_RUNGS <= len(s.rungs) <= MAX_RUNGS
    if not ladder_ok:
        errors.append(
            FieldError(
                "strikes.rungs",
                f"a strike ladder has {MIN_RUNGS} to {MAX_RUNGS} rungs, not {len(s.rungs)}; "
                "to restore the default ladder give resetRungs: true",
                ErrorCode.OUT_OF_RANGE,
            )
        )
    for i, rung in enumerate(s.rungs):
        path = f"strikes.rungs[{i}].consequence"
        if bad := text_errors(rung.consequence, path):
            errors.extend(bad)
        elif not rung.consequence.strip() or len(rung.consequence) > 200:
            errors.append(
                FieldError(path, "a consequence is 1 to 200 characters", ErrorCode.INVALID)
            )
    check("risk.behaviourWindowDays", r.behaviour_window_days, *C.WindowDays.bounds)
    check("risk.behaviourNegatives", r.behaviour_negatives, *C.Negatives.bounds)
    if ladder_ok:  # against a broken ladder the bound means nothing; its own error says why
        check("risk.strikeLevel", r.strike_level, 1, s.max_strike)
    check("risk.attendanceWindowDays", r.attendance_window_days, *C.AttendanceWindow.bounds)
    check("risk.chronicAbsencePct", r.chronic_absence_pct, 0.1, 99.9)
    check("risk.severeAbsencePct", r.severe_absence_pct, r.chronic_absence_pct, 100)
    check("risk.gradeLevelsBelow", r.grade_levels_below, *C.GradeLevels.bounds)
    check("risk.minEnrolledDays", r.min_enrolled_days, 1, r.attendance_window_days)
    check("risk.iepOffTrackProbes", r.iep_off_track_probes, *C.OffTrackProbes.bounds)
    check("housePoints.positive", h.positive, 0, 100)
    check("housePoints.negative", h.negative, -100, 0)
    check("housePoints.neutral", h.neutral, -100, 100)
    try:
        _month_day(a.school_year_start)
    except ValueError:
        errors.append(
            FieldError(
                "attendance.schoolYearStart",
                "schoolYearStart is a month and day, MM-DD, such as 08-01 (not 02-29)",
                ErrorCode.INVALID,
            )
        )
    check("attendance.correctionGraceDays", a.correction_grace_days, *C.GraceDays.bounds)
    keep = policy.retention
    for path, value, contract in (
        ("retention.incidentsYears", keep.incidents_years, C.RetentionYears),
        ("retention.attendanceYears", keep.attendance_years, C.RetentionYears),
        ("retention.auditYears", keep.audit_years, C.RetentionYears),
        ("retention.eventsDays", keep.events_days, C.RetentionDays),
    ):
        if value is not None:
            check(path, value, *contract.bounds)
    if not _is_zone(policy.timezone):
        errors.append(
            FieldError(
                "timezone",
                "timezone must be an IANA time zone name such as Europe/London",
                ErrorCode.INVALID,
            )
        )
    return errors


def _is_zone(name: object) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True
