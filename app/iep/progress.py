"""An IEP goal's progress: the one rule that the API, risk and the progress reports read.

- **percentToTarget**: how far the latest probe is along the way from the baseline to the
  target, in percent (0 at the baseline, 100 at the target; below 0 is regression).
- **trend**: the least-squares slope of the last `TREND_PROBES` probes, in the goal's unit
  per week. It needs at least `MIN_PROBES` probes on at least two different days.
- **neededTrend**: the slope still needed to reach the target by the due date from the
  latest probe: (target - latest) / weeks from the latest probe to the due date.
- **onTrack**: met, or the trend is at least the needed one (in the goal's direction).
  Unknown (null) with too few probes; false once the due date has passed unmet.
- **code** (what a progress report prints): MET, SUFFICIENT (on track), SOME (better than
  the baseline but not on track, or too few probes to tell), NONE (no progress or
  regression), NOT_INTRODUCED (no probe yet).

`off_track_streak` counts how many of the latest probes in a row found the goal off track,
each judged on the probes up to it: the risk factor IEP_PROGRESS triggers at the org's
threshold (3 by default).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Protocol

from app.iep.models import GoalDirection, GoalStatus

TREND_PROBES = 6  # the trend's window: the last six probes
MIN_PROBES = 3  # fewer cannot tell a trend from noise
_SECONDS_A_WEEK = 7 * 24 * 3600


class ProgressCode(enum.StrEnum):
    MET = "MET"
    SUFFICIENT = "SUFFICIENT"
    SOME = "SOME"
    NONE = "NONE"
    NOT_INTRODUCED = "NOT_INTRODUCED"


CODE_MEANINGS = {
    ProgressCode.MET: "The goal has been met.",
    ProgressCode.SUFFICIENT: "Making sufficient progress to meet the goal by its due date.",
    ProgressCode.SOME: "Making some progress, but not enough to meet the goal by its due "
    "date at the current rate.",
    ProgressCode.NONE: "No progress toward the goal yet, or a move away from it.",
    ProgressCode.NOT_INTRODUCED: "Not yet measured: no probe has been taken.",
}


class GoalTerms(Protocol):
    """What progress needs of a goal: an IepGoal row, or Terms."""

    @property
    def baseline(self) -> Decimal | float: ...
    @property
    def target(self) -> Decimal | float: ...
    @property
    def direction(self) -> GoalDirection: ...
    @property
    def due_date(self) -> date: ...
    @property
    def status(self) -> GoalStatus: ...


@dataclass(frozen=True)
class Terms:
    baseline: float
    target: float
    direction: GoalDirection
    due_date: date
    status: GoalStatus = GoalStatus.ACTIVE


@dataclass(frozen=True)
class Point:
    taken_at: datetime
    value: float


@dataclass(frozen=True)
class Progress:
    latest: float | None
    latest_at: datetime | None
    percent_to_target: float | None
    trend: float | None  # the goal's unit per week
    needed_trend: float | None
    on_track: bool | None
    met: bool
    code: ProgressCode
    probes_used: int


def _sign(direction: GoalDirection) -> int:
    return 1 if direction is GoalDirection.INCREASE else -1


def slope_per_week(points: Sequence[Point]) -> float | None:
    """Least-squares slope of value against time, per week; None without two distinct times."""
    if len(points) < 2:
        return None
    t0 = points[0].taken_at
    xs = [(p.taken_at - t0).total_seconds() / _SECONDS_A_WEEK for p in points]
    ys = [p.value for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def progress(goal: GoalTerms, points: Sequence[Point], zone: tzinfo = UTC) -> Progress:
    """The goal's progress on `points` (its probes, oldest first); a probe's day is its
    date in `zone`, the school's time zone."""
    baseline, target = float(goal.baseline), float(goal.target)
    sign = _sign(goal.direction)
    if not points:
        met = goal.status is GoalStatus.MET
        return Progress(
            None,
            None,
            None,
            None,
            None,
            True if met else None,
            met,
            ProgressCode.MET if met else ProgressCode.NOT_INTRODUCED,
            0,
        )
    last = points[-1]
    latest = last.value
    percent = round((latest - baseline) / (target - baseline) * 100, 1)
    met = goal.status is GoalStatus.MET or sign * (latest - target) >= 0
    window = points[-TREND_PROBES:]
    days = {p.taken_at.astimezone(zone).date() for p in window}
    trend = slope_per_week(window) if len(window) >= MIN_PROBES and len(days) >= 2 else None
    weeks_left = (goal.due_date - last.taken_at.astimezone(zone).date()).days / 7
    needed = (target - latest) / weeks_left if weeks_left > 0 and not met else None
    on_track: bool | None
    if met:
        on_track = True
    elif weeks_left <= 0:
        on_track = False  # past the due date and not met
    elif trend is None:
        on_track = None
    else:
        assert needed is not None
        on_track = sign * trend >= sign * needed
    if met:
        code = ProgressCode.MET
    elif on_track:
        code = ProgressCode.SUFFICIENT
    elif percent > 0:
        code = ProgressCode.SOME
    else:
        code = ProgressCode.NONE
    return Progress(
        latest=latest,
        latest_at=last.taken_at,
        percent_to_target=percent,
        trend=None if trend is None else round(trend, 4),
        needed_trend=None if needed is None else round(needed, 4),
        on_track=on_track,
        met=met,
        code=code,
        probes_used=len(window),
    )


def off_track_streak(goal: GoalTerms, points: Sequence[Point], zone: tzinfo = UTC) -> int:
    """How many of the latest probes in a row found the goal off track (each judged on the
    probes up to it). A probe that could not tell (too few before it) ends the streak."""
    streak = 0
    for end in range(len(points), 0, -1):
        if progress(goal, points[:end], zone).on_track is not False:
            break
        streak += 1
    return streak
