"""Risk trajectory: where each indicator is heading, and the tier that leads to.

For every student, one weekly series per trended indicator over the org's last `weeks` local
weeks (Monday start, policy.timezone), oldest first, the current (partial) week last:

- ATTENDANCE: the percentage of the week's recorded school time attended: present periods over
  scheduled periods, as `classify_day` stored them and as the attendance summaries' `rate`
  weighs them, so that 100 minus it is the absence % the risk rule reads. None for a week
  with no recorded day.
- BEHAVIOUR_INCIDENTS: negative, non-void incidents in that local week (a week without one is a
  real 0).
- COURSE_PERFORMANCE: grade levels below grade level of the latest diagnostic of each subject
  taken by the week's end, worst subject, as a positive number (gather_inputs' convention:
  -1 is one level above). None before any diagnostic.

`slope` is the least-squares slope per week over the known points; `direction` reads it
against a stable band. The projection is the fitted line HORIZON_WEEKS after the last week,
clamped to the indicator's range, fed to the same rule (`evaluate`) through the student's
current `RiskInputs` with only the trended fields replaced. Each query runs once for all the
students, grouped by student and week, so the statement count does not grow with them.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.service import MAX_GRADE_LEVELS
from app.attendance.rules import ChronicBand, chronic_band
from app.orgs.policy import OrgPolicy, RiskThresholds, local_midnight, local_today, org_zone
from app.risk.service import Factor, Indicator, RiskInputs, evaluate, gather_inputs


class Direction(enum.StrEnum):
    IMPROVING = "IMPROVING"
    STABLE = "STABLE"
    WORSENING = "WORSENING"


# The projection looks this many weeks past the last week of the series.
HORIZON_WEEKS = 4
# What `weeks` may be (the GraphQL layer validates against these; ValueError otherwise).
MIN_WEEKS, MAX_WEEKS = 1, 52

# A slope whose size is at most the band (inclusive) is STABLE: attendance in percentage
# points a week, incidents in negative incidents a week, placement in grade levels a week.
ATTENDANCE_STABLE_BAND = 1.0
INCIDENTS_STABLE_BAND = 0.25
PLACEMENT_STABLE_BAND = 0.1
STABLE_BAND: dict[Indicator, float] = {
    Indicator.ATTENDANCE: ATTENDANCE_STABLE_BAND,
    Indicator.BEHAVIOUR_INCIDENTS: INCIDENTS_STABLE_BAND,
    Indicator.COURSE_PERFORMANCE: PLACEMENT_STABLE_BAND,
}
# +1 where a rising value is better (attendance), -1 where a falling one is.
BETTER_SIGN: dict[Indicator, int] = {
    Indicator.ATTENDANCE: 1,
    Indicator.BEHAVIOUR_INCIDENTS: -1,
    Indicator.COURSE_PERFORMANCE: -1,
}
# The trended indicators, in the order a trajectory lists them (and names its drivers).
TRENDED: tuple[Indicator, ...] = (
    Indicator.ATTENDANCE,
    Indicator.BEHAVIOUR_INCIDENTS,
    Indicator.COURSE_PERFORMANCE,
)
UNITS: dict[Indicator, str] = {
    Indicator.ATTENDANCE: "% of recorded school time attended",
    Indicator.BEHAVIOUR_INCIDENTS: "negative incidents a week",
    Indicator.COURSE_PERFORMANCE: "grade levels below",
}
# Each projection is clamped to what the indicator can be (None: no upper bound).
_RANGE: dict[Indicator, tuple[float, float | None]] = {
    Indicator.ATTENDANCE: (0.0, 100.0),
    Indicator.BEHAVIOUR_INCIDENTS: (0.0, None),
    Indicator.COURSE_PERFORMANCE: (float(-MAX_GRADE_LEVELS), float(MAX_GRADE_LEVELS)),
}
# Float noise must not push a slope exactly on the band's edge out of it.
_EPSILON = 1e-9


@dataclass(frozen=True)
class WeekPoint:
    week_start: date  # the Monday of the org's local week
    value: float | None  # None: no data that week


@dataclass(frozen=True)
class IndicatorTrajectory:
    indicator: Indicator
    unit: str
    points: list[WeekPoint]  # oldest first, exactly `weeks` points
    slope: float | None  # per week, least squares over the known points; None under 2
    direction: Direction | None  # None when slope is None
    current: float | None  # the latest known point's value
    projected: float | None  # the fitted line HORIZON_WEEKS after the last week, clamped
    projected_triggered: bool  # this indicator's factor triggers in the projected evaluation
    explanation: str


@dataclass(frozen=True)
class Trajectory:
    student_id: uuid.UUID
    weeks: int
    current_tier: int  # the stored students.risk_tier
    projected_tier: int
    indicators: list[IndicatorTrajectory]
    drivers: list[Indicator]  # every indicator whose factor triggers in the projection
    explanation: str


def slope(values: Sequence[float | None]) -> float | None:
    """The least-squares slope of `values` against their index (the week), skipping None;
    None with fewer than two known values."""
    fit = _fit(values)
    return None if fit is None else fit[0]


def _fit(values: Sequence[float | None]) -> tuple[float, float] | None:
    """(slope, intercept) of the least-squares line through the known points."""
    known = [(float(x), float(y)) for x, y in enumerate(values) if y is not None]
    if len(known) < 2:
        return None
    n = len(known)
    mean_x = sum(x for x, _ in known) / n
    mean_y = sum(y for _, y in known) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in known)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in known)
    b = sxy / sxx  # the x are distinct indexes, so sxx > 0
    return b, mean_y - b * mean_x


def direction(indicator: Indicator, slope: float | None) -> Direction | None:
    """STABLE while |slope| is within the indicator's STABLE_BAND (inclusive); otherwise
    IMPROVING or WORSENING by the indicator's better sign (attendance up, incidents and
    grade levels below down). None without a slope; ValueError for an untrended indicator."""
    if indicator not in STABLE_BAND:
        raise ValueError(f"{indicator} has no weekly series")
    if slope is None:
        return None
    if abs(slope) <= STABLE_BAND[indicator] + _EPSILON:
        return Direction.STABLE
    return Direction.IMPROVING if slope * BETTER_SIGN[indicator] > 0 else Direction.WORSENING


def _clamp(indicator: Indicator, value: float) -> float:
    low, high = _RANGE[indicator]
    value = max(low, value)
    return value if high is None else min(high, value)


def _check_weeks(weeks: int) -> None:
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between {MIN_WEEKS} and {MAX_WEEKS}, not {weeks}")


# --- queries: one per source, for every student at once, grouped by student and week ---

_TIERS = text("SELECT id, risk_tier FROM students WHERE org_id = :org_id AND id = ANY(:ids)")
_ORG_TIERS = text("SELECT id, risk_tier FROM students WHERE org_id = :org_id ORDER BY name, id")
# A date's Monday: ISODOW is 1 on Monday ... 7 on Sunday.
_ATTENDANCE_WEEKS = text(
    """SELECT student_id, day - (CAST(EXTRACT(ISODOW FROM day) AS int) - 1) AS week,
        sum(present_periods), sum(scheduled_periods)
    FROM attendance_days
    WHERE org_id = :org_id AND student_id = ANY(:ids) AND day >= :start AND day <= :end
    GROUP BY student_id, week"""
)
_INCIDENT_WEEKS = text(
    """SELECT student_id, local_day - (CAST(EXTRACT(ISODOW FROM local_day) AS int) - 1) AS week,
        count(*)
    FROM (SELECT student_id, CAST(occurred_at AT TIME ZONE :tz AS date) AS local_day
        FROM incidents
        WHERE org_id = :org_id AND student_id = ANY(:ids) AND kind = 'NEGATIVE'
          AND voided_at IS NULL AND occurred_at >= :since AND occurred_at <= :now) AS negatives
    GROUP BY student_id, week"""
)
# Every diagnostic taken in the series, and the latest of each subject before it.
_DIAGNOSTICS = text(
    """SELECT student_id, subject, taken_on, levels FROM (
        SELECT student_id, subject, taken_on, id, grade_levels_relative AS levels,
            row_number() OVER (PARTITION BY student_id, subject, taken_on < :start
                               ORDER BY taken_on DESC, id DESC) AS rn
        FROM assessments
        WHERE org_id = :org_id AND student_id = ANY(:ids) AND kind = 'DIAGNOSTIC'
          AND taken_on <= :end) AS d
    WHERE taken_on >= :start OR rn = 1
    ORDER BY student_id, subject, taken_on, id"""
)


async def trajectories(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Sequence[uuid.UUID],
    weeks: int,
    policy: OrgPolicy,
    now: datetime,
) -> dict[uuid.UUID, Trajectory]:
    """The trajectory of each of the org's `student_ids` (ids of no student of the org are
    left out), in the order given, over the last `weeks` local weeks up to `now`."""
    _check_weeks(weeks)
    ids = list(dict.fromkeys(student_ids))
    if not ids:
        return {}
    rows = await session.execute(_TIERS, {"org_id": org_id, "ids": ids})
    stored = {sid: int(tier) for sid, tier in rows}
    tiers = {sid: stored[sid] for sid in ids if sid in stored}
    return await _trajectories(
        session, org_id=org_id, tiers=tiers, weeks=weeks, policy=policy, now=now
    )


async def heading_into(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    min_tier: int,
    weeks: int,
    policy: OrgPolicy,
    now: datetime,
) -> list[uuid.UUID]:
    """The org's students projected to reach tier `min_tier` or above that are not yet at
    their projected tier (projected above the stored tier), in name order."""
    _check_weeks(weeks)
    rows = await session.execute(_ORG_TIERS, {"org_id": org_id})
    tiers = {sid: int(tier) for sid, tier in rows}
    found = await _trajectories(
        session, org_id=org_id, tiers=tiers, weeks=weeks, policy=policy, now=now
    )
    return [
        sid
        for sid, tr in found.items()
        if tr.projected_tier >= min_tier and tr.projected_tier > tr.current_tier
    ]


async def _trajectories(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    tiers: dict[uuid.UUID, int],
    weeks: int,
    policy: OrgPolicy,
    now: datetime,
) -> dict[uuid.UUID, Trajectory]:
    ids = list(tiers)
    if not ids:
        return {}
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    t = policy.risk
    today = local_today(policy, now)
    this_week = today - timedelta(days=today.weekday())
    starts = [this_week - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    # The instant the first week began at the org (the local noon finds its local day).
    since = local_midnight(policy, datetime.combine(starts[0], time(12), tzinfo=org_zone(policy)))

    current = await gather_inputs(session, org_id=org_id, student_ids=ids, t=t, now=now)
    attended: dict[tuple[uuid.UUID, date], float] = {}
    params = {"org_id": org_id, "ids": ids, "start": starts[0], "end": today}
    for sid, week, present, scheduled in await session.execute(_ATTENDANCE_WEEKS, params):
        if scheduled:
            attended[(sid, week)] = round(float(present) * 100 / float(scheduled), 2)
    negatives: dict[tuple[uuid.UUID, date], int] = {}
    params = {"org_id": org_id, "ids": ids, "tz": policy.timezone, "since": since, "now": now}
    for sid, week, n in await session.execute(_INCIDENT_WEEKS, params):
        negatives[(sid, week)] = int(n)
    diagnostics: dict[uuid.UUID, list[tuple[str, date, int | None]]] = {sid: [] for sid in ids}
    params = {"org_id": org_id, "ids": ids, "start": starts[0], "end": today}
    for sid, subject, taken_on, levels in await session.execute(_DIAGNOSTICS, params):
        diagnostics[sid].append((subject, taken_on, levels))

    # The current week is a week so far: its incidents are taken at the pace of the school
    # days gone (Monday's count times five, Friday's and the weekend's as they are), so that
    # a Monday does not read as a sudden improvement.
    week_scale = 5 / min(today.weekday() + 1, 5)
    out = {}
    for sid in ids:
        series: dict[Indicator, list[float | None]] = {
            Indicator.ATTENDANCE: [attended.get((sid, w)) for w in starts],
            Indicator.BEHAVIOUR_INCIDENTS: [
                float(negatives.get((sid, w), 0)) * (week_scale if w == this_week else 1)
                for w in starts
            ],
            Indicator.COURSE_PERFORMANCE: _placement_series(diagnostics[sid], starts, today),
        }
        out[sid] = _trajectory(sid, tiers[sid], current[sid], series, starts, weeks, t)
    return out


def _placement_series(
    rows: list[tuple[str, date, int | None]], starts: list[date], today: date
) -> list[float | None]:
    """Per week: the worst subject's grade levels below, of the latest diagnostic of each
    subject taken by the week's end (rows in subject, taken_on order; the last one wins)."""
    values: list[float | None] = []
    for start in starts:
        end = min(start + timedelta(days=6), today)
        latest: dict[str, int | None] = {}
        for subject, taken_on, levels in rows:
            if taken_on <= end:
                latest[subject] = levels
        known = [-lv for lv in latest.values() if lv is not None]
        values.append(float(max(known)) if known else None)
    return values


def _trajectory(
    student_id: uuid.UUID,
    current_tier: int,
    inputs: RiskInputs,
    series: dict[Indicator, list[float | None]],
    starts: list[date],
    weeks: int,
    t: RiskThresholds,
) -> Trajectory:
    fits = {ind: _fit(values) for ind, values in series.items()}
    projected: dict[Indicator, float | None] = {}
    for ind, fit in fits.items():
        at = weeks - 1 + HORIZON_WEEKS
        projected[ind] = None if fit is None else _clamp(ind, fit[1] + fit[0] * at)

    # replace, never a new RiskInputs: every field not trended keeps its current value.
    future = inputs
    if (rate := projected[Indicator.ATTENDANCE]) is not None:
        future = dataclasses.replace(future, absence_pct=round(100 - rate, 2))
    if (count := projected[Indicator.BEHAVIOUR_INCIDENTS]) is not None:
        negatives = round(count * t.behaviour_window_days / 7)
        future = dataclasses.replace(future, negatives_in_window=negatives)
    if (below := projected[Indicator.COURSE_PERFORMANCE]) is not None:
        future = dataclasses.replace(future, grade_levels_below=round(below))
    result = evaluate(future, t)
    factors = {f.indicator: f for f in result.factors}

    indicators = []
    for ind in TRENDED:
        values = series[ind]
        fit = fits[ind]
        known = [v for v in values if v is not None]
        b = None if fit is None else fit[0]
        tr = IndicatorTrajectory(
            indicator=ind,
            unit=UNITS[ind],
            points=[WeekPoint(w, v) for w, v in zip(starts, values, strict=True)],
            slope=b,
            direction=direction(ind, b),
            current=known[-1] if known else None,
            projected=projected[ind],
            projected_triggered=ind in factors and factors[ind].triggered,
            explanation="",
        )
        indicators.append(
            dataclasses.replace(tr, explanation=_explain_indicator(tr, future, weeks, t))
        )

    triggered = [f for f in result.factors if f.triggered]
    order = {ind: i for i, ind in enumerate(TRENDED)}
    triggered.sort(key=lambda f: order.get(f.indicator, len(order)))  # stable: then rule order
    by_indicator = {tr.indicator: tr for tr in indicators}
    return Trajectory(
        student_id=student_id,
        weeks=weeks,
        current_tier=current_tier,
        projected_tier=result.tier,
        indicators=indicators,
        drivers=[f.indicator for f in triggered],
        explanation=_explain(current_tier, result.tier, triggered, by_indicator, future),
    )


# --- explanations ---


def _n(value: float) -> str:
    """1, 2.5, 0.33: at most two decimals, no trailing zeros."""
    return f"{round(value, 2):g}"


def _levels(below: float) -> str:
    n = round(below)
    if n > 0:
        return f"{n} grade level{'s' if n != 1 else ''} below"
    if n < 0:
        return f"{-n} grade level{'s' if n != -1 else ''} above"
    return "on grade level"


def _trend(tr: IndicatorTrajectory, up: str, down: str, per_week: str) -> str:
    """'worsening (falling 2 points a week)': the direction, and the change in words."""
    assert tr.slope is not None and tr.direction is not None
    if tr.slope == 0:
        move = "unchanged week to week"
    else:
        move = f"{up if tr.slope > 0 else down} {_n(abs(tr.slope))} {per_week}"
    return f"{tr.direction.value.lower()} ({move})"


def _explain_indicator(
    tr: IndicatorTrajectory, future: RiskInputs, weeks: int, t: RiskThresholds
) -> str:
    known = sum(1 for p in tr.points if p.value is not None)
    if tr.indicator is Indicator.ATTENDANCE:
        if tr.current is None:
            return f"Attendance: no school day recorded in the last {weeks} weeks."
        if tr.projected is None:
            return (
                f"Attendance: {_n(tr.current)}% attended in the only week of the last {weeks} "
                "with recorded days; a trend needs two."
            )
        absence = future.absence_pct if future.absence_pct is not None else 100 - tr.projected
        band = chronic_band(absence, future.attendance_days, t)
        if band is ChronicBand.SEVERE:
            verdict = f"severe chronic absence (threshold {_n(t.severe_absence_pct)}%)"
        elif band is ChronicBand.MODERATE:
            verdict = f"chronic absence (threshold {_n(t.chronic_absence_pct)}%)"
        elif band is ChronicBand.INSUFFICIENT_DATA:
            verdict = (
                f"too few recorded days to call chronic ({future.attendance_days} of "
                f"{t.min_enrolled_days} needed)"
            )
        else:
            verdict = f"under the {_n(t.chronic_absence_pct)}% chronic-absence threshold"
        trend = _trend(tr, "rising", "falling", "points a week")
        return (
            f"Attendance is {trend}: {_n(tr.current)}% attended in the latest week with "
            f"records; projected {_n(tr.projected)}% in {HORIZON_WEEKS} weeks, missing "
            f"{_n(absence)}%: {verdict}."
        )
    if tr.indicator is Indicator.BEHAVIOUR_INCIDENTS:
        assert tr.current is not None  # every week has a count
        if tr.projected is None:
            return (
                f"Negative incidents: {_n(tr.current)} so far this week; a trend needs two weeks."
            )
        side = "at or over" if tr.projected_triggered else "under"
        trend = _trend(tr, "rising", "falling", "a week")
        return (
            f"Negative incidents are {trend}: {_n(tr.current)} so far this week; projected "
            f"{_n(tr.projected)} a week in {HORIZON_WEEKS} weeks, {future.negatives_in_window} "
            f"in {t.behaviour_window_days} days: {side} the threshold of {t.behaviour_negatives}."
        )
    if tr.current is None:
        return "Course performance: no diagnostic taken yet."
    if tr.projected is None:
        return (
            f"Course performance: latest diagnostic placement {_levels(tr.current)}; "
            f"only {known} week{'s' if known != 1 else ''} with a placement, a trend needs two."
        )
    side = "at or past" if tr.projected_triggered else "short of"
    trend = _trend(tr, "slipping", "climbing", "grade levels a week")
    return (
        f"Course performance is {trend}: latest diagnostic placement {_levels(tr.current)}; "
        f"projected {_levels(tr.projected)} in {HORIZON_WEEKS} weeks: {side} the threshold "
        f"of {t.grade_levels_below} below."
    )


def _driver(
    factor: Factor, trended: dict[Indicator, IndicatorTrajectory], future: RiskInputs
) -> str:
    tr = trended.get(factor.indicator)
    name = factor.indicator.value
    if tr is None or tr.projected is None:
        return f"{name} ({factor.detail}, as it is now)"
    if tr.indicator is Indicator.ATTENDANCE:
        return (
            f"{name} (attendance projected {_n(tr.projected)}%, {_n(100 - tr.projected)}% missed)"
        )
    if tr.indicator is Indicator.BEHAVIOUR_INCIDENTS:
        return (
            f"{name} ({_n(tr.projected)} negative incidents a week projected, "
            f"{future.negatives_in_window} in the window)"
        )
    return f"{name} (placement projected {_levels(tr.projected)})"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _explain(
    current_tier: int,
    projected_tier: int,
    triggered: list[Factor],
    trended: dict[Indicator, IndicatorTrajectory],
    future: RiskInputs,
) -> str:
    if projected_tier > current_tier:
        head = f"Projected tier {projected_tier} in {HORIZON_WEEKS} weeks (now tier {current_tier})"
    elif projected_tier == current_tier:
        head = f"Projected to stay at tier {projected_tier}"
    else:
        head = (
            f"Projected to fall to tier {projected_tier} in {HORIZON_WEEKS} weeks "
            f"(now tier {current_tier})"
        )
    if not triggered:
        return f"{head}: no indicator is heading past its threshold"
    return f"{head}, driven by {_join([_driver(f, trended, future) for f in triggered])}"
