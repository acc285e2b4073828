"""The progress rule on hand-computed series (app.iep.progress)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.iep.models import GoalDirection, GoalStatus
from app.iep.progress import (
    Point,
    ProgressCode,
    Terms,
    off_track_streak,
    progress,
    slope_per_week,
)

START = datetime(2026, 9, 7, 9, tzinfo=UTC)  # a Monday


def weekly(*values: float) -> list[Point]:
    return [Point(START + timedelta(weeks=i), v) for i, v in enumerate(values)]


# Words correct a minute: 40 -> 80 by 2027-06-07 (39 weeks after START).
READING = Terms(baseline=40, target=80, direction=GoalDirection.INCREASE, due_date=date(2027, 6, 7))
# Outbursts a day: 10 -> 2.
OUTBURSTS = Terms(
    baseline=10, target=2, direction=GoalDirection.DECREASE, due_date=date(2027, 6, 7)
)


def test_slope_is_least_squares_per_week() -> None:
    # y = 40 + 2x exactly: slope 2 a week.
    assert slope_per_week(weekly(40, 42, 44, 46)) == pytest.approx(2.0)
    # 1, 2, 6 at weeks 0, 1, 2: mean x 1, mean y 3; sxy = (-1)(-2) + 0 + (1)(3) = 5; sxx = 2.
    assert slope_per_week(weekly(1, 2, 6)) == pytest.approx(2.5)
    # Days, not indices: probes at day 0, 7 and 21 of 10, 11, 13 lie on y = 10 + x/week.
    pts = [Point(START + timedelta(days=d), v) for d, v in ((0, 10), (7, 11), (21, 13))]
    assert slope_per_week(pts) == pytest.approx(1.0)
    assert slope_per_week(weekly(5)) is None
    assert slope_per_week([Point(START, 1), Point(START, 3)]) is None  # one instant: no slope


def test_increase_goal_on_track() -> None:
    # 44, 46, 48 at weeks 0-2: trend 2/week. Latest 48 on 2026-09-21; 37 weeks to the due
    # date; needed (80 - 48) / 37 = 0.8649/week. 2 >= 0.86: on track.
    p = progress(READING, weekly(44, 46, 48))
    assert p.latest == 48
    assert p.percent_to_target == 20.0  # (48 - 40) / (80 - 40)
    assert p.trend == pytest.approx(2.0)
    assert p.needed_trend == pytest.approx(32 / 37, abs=1e-4)
    assert p.on_track is True
    assert p.code is ProgressCode.SUFFICIENT
    assert p.probes_used == 3


def test_increase_goal_off_track_but_some_progress() -> None:
    # 41, 41.5, 42: trend 0.5/week < needed (80 - 42) / 37 = 1.027: off track, 5% of the way.
    p = progress(READING, weekly(41, 41.5, 42))
    assert p.trend == pytest.approx(0.5)
    assert p.on_track is False
    assert p.percent_to_target == 5.0
    assert p.code is ProgressCode.SOME


def test_decrease_goal() -> None:
    # 9, 8, 7 outbursts: trend -1/week; needed (2 - 7) / 37 = -0.135/week; -1 <= -0.135: on track.
    p = progress(OUTBURSTS, weekly(9, 8, 7))
    assert p.trend == pytest.approx(-1.0)
    assert p.needed_trend == pytest.approx(-5 / 37, abs=1e-4)
    assert p.on_track is True
    assert p.percent_to_target == 37.5  # (7 - 10) / (2 - 10)
    # Getting worse: 10, 11, 12 (regression: percent below 0, code NONE).
    worse = progress(OUTBURSTS, weekly(10, 11, 12))
    assert worse.on_track is False
    assert worse.percent_to_target == -25.0
    assert worse.code is ProgressCode.NONE
    # At or below the target: met.
    met = progress(OUTBURSTS, weekly(5, 3, 2))
    assert (met.met, met.on_track, met.code) == (True, True, ProgressCode.MET)


def test_too_few_probes() -> None:
    none = progress(READING, [])
    assert (none.latest, none.percent_to_target, none.trend, none.on_track) == (
        None,
        None,
        None,
        None,
    )
    assert none.code is ProgressCode.NOT_INTRODUCED
    two = progress(READING, weekly(44, 46))
    assert two.trend is None and two.on_track is None
    assert two.percent_to_target == 15.0
    assert two.code is ProgressCode.SOME  # better than the baseline, too few to say on track
    flat = progress(READING, weekly(40, 40))
    assert flat.code is ProgressCode.NONE


def test_the_trend_reads_the_last_six_probes() -> None:
    # Six weeks flat at 40, then 50, 52, 54, 56, 58, 60: the last six give slope 2.
    p = progress(READING, weekly(40, 40, 40, 40, 40, 40, 50, 52, 54, 56, 58, 60))
    assert p.probes_used == 6
    assert p.trend == pytest.approx(2.0)


def test_past_due_unmet_is_off_track() -> None:
    due = Terms(
        baseline=40, target=80, direction=GoalDirection.INCREASE, due_date=date(2026, 9, 14)
    )
    p = progress(due, weekly(50, 60, 70))  # the last probe on 09-21, after the due date
    assert p.on_track is False and p.needed_trend is None
    assert p.code is ProgressCode.SOME


def test_a_met_status_is_met_whatever_the_probes() -> None:
    terms = Terms(40, 80, GoalDirection.INCREASE, date(2027, 6, 7), GoalStatus.MET)
    assert progress(terms, weekly(41, 41, 41)).code is ProgressCode.MET


def test_off_track_streak_counts_the_latest_probes_in_a_row() -> None:
    # Probes 1-2 cannot tell; 3 (41, 41, 41: flat) off; 4 off; 5 off.
    assert off_track_streak(READING, weekly(41, 41, 41, 41, 41)) == 3
    # A climb at the end puts the last one back on track: the streak is 0.
    assert off_track_streak(READING, weekly(41, 41, 41, 41, 60)) == 0
    # On track at the third probe (slope 2), then a fall: the fourth (44, 46, 48, 30: slope
    # -20/5 = -4) and the fifth (-44/10 = -4.4) are off. Two in a row.
    assert off_track_streak(READING, weekly(44, 46, 48, 30, 30)) == 2
    assert off_track_streak(READING, weekly(44, 46)) == 0
