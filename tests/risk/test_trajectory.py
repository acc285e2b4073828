"""Risk trajectory: weekly series with a known slope, the direction, the projected tier and
what drives it, the students heading into a tier, and a statement count flat in students.

The series are synthetic: each week's numbers are chosen so that the slope and the projection
can be worked out by hand (the arithmetic is in the comments). `NOW` is a Friday afternoon in
the past, so the current week is Monday to Friday, and every week holds five school days of
ten periods (an absent period moves the week's attendance by 2 points)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.assessments import service as assessments
from app.assessments.models import AssessmentKind
from app.attendance import service as attendance
from app.db import Database
from app.incidents import flows
from app.incidents.models import IncidentKind
from app.orgs import service as orgs
from app.risk import service as risk
from app.risk.service import Indicator
from app.risk.trajectory import (
    HORIZON_WEEKS,
    Direction,
    Trajectory,
    direction,
    heading_into,
    slope,
    trajectories,
)
from tests.conftest import Org, counting_statements, make_org
from tests.factories import log, make_student

ZONE = "America/New_York"
WEEKS = 8
# The fitted line is read HORIZON_WEEKS after the last week: x = 7 + 4 = 11.
AT = WEEKS - 1 + HORIZON_WEEKS


def _last_friday_afternoon() -> datetime:
    """The latest Friday 15:00 UTC (10:00 or 11:00 in New York) at least an hour ago: in the
    past, so incidents of that week may be logged."""
    real = datetime.now(UTC)
    friday = real.date() - timedelta(days=(real.weekday() - 4) % 7)
    at = datetime.combine(friday, time(15), tzinfo=UTC)
    return at if at <= real - timedelta(hours=1) else at - timedelta(weeks=1)


NOW = _last_friday_afternoon()
TODAY = NOW.astimezone(ZoneInfo(ZONE)).date()
MONDAYS = [TODAY - timedelta(days=4) - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE))


async def _school_org(db: Database) -> Org:
    """An org in New York whose school year began 90 days ago, so every day of the series
    may be recorded."""
    start = TODAY - timedelta(days=90)
    month_day = "02-28" if (start.month, start.day) == (2, 29) else start.strftime("%m-%d")
    return await make_org(
        db, settings={"timezone": ZONE, "attendance": {"school_year_start": month_day}}
    )


async def _attendance(db: Database, org: Org, student_id: uuid.UUID, absent: list[int]) -> None:
    """Week i: Monday to Friday, ten periods a day, `absent[i]` periods absent ('A')."""
    days = []
    for monday, missed in zip(MONDAYS, absent, strict=True):
        for d in range(5):
            here = min(missed, 10)
            missed -= here
            codes = {str(p): "A" for p in range(1, here + 1)}
            days.append(
                attendance.DayInput(student_id, monday + timedelta(days=d), 10, period_codes=codes)
            )
    async with db.transaction(org.id) as session:
        policy = await orgs.get_policy(session, org_id=org.id)
        await attendance.save_days(
            session, actor=org.principal(), days=days, policy=policy, now=NOW
        )


async def _negatives(db: Database, org: Org, student_id: uuid.UUID, counts: list[int]) -> None:
    """Week i: `counts[i]` negatives, Monday from 10:00 New York time, an hour apart."""
    for monday, n in zip(MONDAYS, counts, strict=True):
        for j in range(n):
            await log(db, org, student_id, occurred_at=_local(monday, 10 + j))


async def _diagnostic(
    db: Database, org: Org, student_id: uuid.UUID, subject: str, taken_on: date, placement: str
) -> None:
    item = assessments.AssessmentData(
        student_id,
        AssessmentKind.DIAGNOSTIC,
        subject,
        taken_on,
        scale_score=500,
        relative_placement=placement,
    )
    async with db.transaction(org.id) as session:
        await assessments.save_many(session, actor=org.principal(), items=[item])


async def _store_tiers(db: Database, org: Org, ids: list[uuid.UUID]) -> None:
    """The stored tier as the rule gives it at NOW (the flows recompute at the real time)."""
    async with db.transaction(org.id) as session:
        await risk.recompute(
            session, actor=org.principal(), student_ids=ids, trigger="test", now=NOW
        )


async def _trajectories(
    db: Database, org: Org, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Trajectory]:
    async with db.transaction(org.id) as session:
        policy = await orgs.get_policy(session, org_id=org.id)
        return await trajectories(
            session, org_id=org.id, student_ids=ids, weeks=WEEKS, policy=policy, now=NOW
        )


async def _heading_into(db: Database, org: Org, min_tier: int) -> list[uuid.UUID]:
    async with db.transaction(org.id) as session:
        policy = await orgs.get_policy(session, org_id=org.id)
        return await heading_into(
            session, org_id=org.id, min_tier=min_tier, weeks=WEEKS, policy=policy, now=NOW
        )


@dataclass
class School:
    org: Org
    falling: uuid.UUID  # attendance falls 2 points a week
    improving: uuid.UUID  # fewer negatives week by week
    steady: uuid.UUID  # the same attendance every week, no incident, no diagnostic
    slipping: uuid.UUID  # diagnostics placing lower and lower
    constant: uuid.UUID  # three negatives every week: tier 2 now and projected
    recovering: uuid.UUID  # attendance rising 4 points a week
    also_falling: list[uuid.UUID]  # as `falling`, named Dee, Mia and Pat
    result: dict[uuid.UUID, Trajectory]


@pytest.fixture(scope="module")
async def school(db: Database) -> AsyncIterator[School]:
    org = await _school_org(db)
    # Names sort Amy, Bo, Casey, Dee, Kim, Lee, Mia, Pat, Zed: not the order of creation.
    falling = (await make_student(db, org, name="Zed Falling")).id
    improving = (await make_student(db, org, name="Kim Improving")).id
    steady = (await make_student(db, org, name="Casey Steady")).id
    slipping = (await make_student(db, org, name="Amy Slipping")).id
    constant = (await make_student(db, org, name="Bo Constant")).id
    recovering = (await make_student(db, org, name="Lee Recovering")).id
    also_falling = [
        (await make_student(db, org, name=f"{first} Falling")).id for first in ("Pat", "Dee", "Mia")
    ]

    # 0, 1, ... 7 periods absent: 100, 98, ..., 86% attended.
    for student in (falling, *also_falling):
        await _attendance(db, org, student, list(range(WEEKS)))
    # 14, 12, ... 0 periods absent: 72, 76, ..., 100% attended.
    await _attendance(db, org, recovering, [14 - 2 * i for i in range(WEEKS)])
    await _negatives(db, org, improving, [6, 5, 5, 4, 4, 3, 3, 3])
    await _attendance(db, org, steady, [2] * WEEKS)  # 96% every week
    # MATH: an old placement 4 below, replaced before the series by 1 above; ELA from week 2.
    await _diagnostic(
        db, org, slipping, "Math", MONDAYS[0] - timedelta(weeks=20), "4 Grade Levels Below"
    )
    await _diagnostic(
        db, org, slipping, "Math", MONDAYS[0] - timedelta(weeks=10), "1 Grade Level Above"
    )
    await _diagnostic(
        db, org, slipping, "Reading", MONDAYS[2] + timedelta(days=2), "Early On Grade Level"
    )
    await _diagnostic(
        db, org, slipping, "Reading", MONDAYS[5] + timedelta(days=2), "1 Grade Level Below"
    )

    await _negatives(db, org, constant, [3] * WEEKS)

    ids = [falling, improving, steady, slipping, constant, recovering, *also_falling]
    await _store_tiers(db, org, ids)
    result = await _trajectories(db, org, ids)
    yield School(
        org, falling, improving, steady, slipping, constant, recovering, also_falling, result
    )


def _indicator(tr: Trajectory, indicator: Indicator):  # type: ignore[no-untyped-def]
    (found,) = [i for i in tr.indicators if i.indicator is indicator]
    return found


# --- the pure parts ---


def test_slope_is_least_squares_by_hand() -> None:
    assert slope([1, 2, 3]) == pytest.approx(1.0)
    assert slope([0, 2, 4, 6]) == pytest.approx(2.0)
    assert slope([3, 3, 3, 3]) == 0
    assert slope([100, 98, 96, 94, 92, 90, 88, 86]) == pytest.approx(-2.0)
    # x = 0, 2, 3 (week 1 missing), y = 10, 7, 4: mean x 5/3, mean y 7,
    # Sxx = 25/9 + 1/9 + 16/9 = 42/9, Sxy = -5/3*3 + 1/3*0 + 4/3*-3 = -9: slope -81/42.
    assert slope([10, None, 7, 4]) == pytest.approx(-81 / 42)
    # Gaps count as weeks: points at x = 1 and 3, from 1 to 5, rise 2 a week (not 4).
    assert slope([None, 1, None, 5]) == pytest.approx(2.0)
    assert slope([0, 0, 0, 0, 1, 1, 1, 1]) == pytest.approx(8 / 42)


def test_slope_needs_two_known_points() -> None:
    assert slope([]) is None
    assert slope([5]) is None
    assert slope([None, 3, None]) is None
    assert slope([None, None]) is None


@pytest.mark.parametrize(
    ("indicator", "value", "expected"),
    [
        # Attendance: up is better; the stable band is 1 point a week, inclusive.
        (Indicator.ATTENDANCE, 1.5, Direction.IMPROVING),
        (Indicator.ATTENDANCE, -1.5, Direction.WORSENING),
        (Indicator.ATTENDANCE, 1.0, Direction.STABLE),
        (Indicator.ATTENDANCE, -1.0, Direction.STABLE),
        (Indicator.ATTENDANCE, -1.01, Direction.WORSENING),
        (Indicator.ATTENDANCE, 0.0, Direction.STABLE),
        # Negative incidents: down is better; the band is 0.25 a week.
        (Indicator.BEHAVIOUR_INCIDENTS, 0.3, Direction.WORSENING),
        (Indicator.BEHAVIOUR_INCIDENTS, -0.3, Direction.IMPROVING),
        (Indicator.BEHAVIOUR_INCIDENTS, 0.25, Direction.STABLE),
        (Indicator.BEHAVIOUR_INCIDENTS, -0.25, Direction.STABLE),
        # Grade levels below: down is better; the band is 0.1 level a week.
        (Indicator.COURSE_PERFORMANCE, 0.2, Direction.WORSENING),
        (Indicator.COURSE_PERFORMANCE, -0.2, Direction.IMPROVING),
        (Indicator.COURSE_PERFORMANCE, 0.1, Direction.STABLE),
        (Indicator.COURSE_PERFORMANCE, 0.05, Direction.STABLE),
        # No slope, no direction.
        (Indicator.ATTENDANCE, None, None),
        (Indicator.COURSE_PERFORMANCE, None, None),
    ],
)
def test_direction_per_indicator(
    indicator: Indicator, value: float | None, expected: Direction | None
) -> None:
    assert direction(indicator, value) is expected


def test_direction_of_an_untrended_indicator_is_refused() -> None:
    with pytest.raises(ValueError):
        direction(Indicator.BEHAVIOUR_STRIKES, 1.0)


# --- on the database ---


async def test_falling_attendance_projects_a_higher_tier(school: School) -> None:
    tr = school.result[school.falling]
    att = _indicator(tr, Indicator.ATTENDANCE)
    assert [p.week_start for p in att.points] == MONDAYS
    assert all(p.week_start.weekday() == 0 for p in att.points)
    assert [p.value for p in att.points] == [100, 98, 96, 94, 92, 90, 88, 86]
    # y = 100 - 2x exactly: slope -2, and at x = 11 the line is 100 - 22 = 78.
    assert att.slope == pytest.approx(-2.0)
    assert att.direction is Direction.WORSENING
    assert att.current == 86
    assert att.projected == pytest.approx(78.0)
    assert att.projected_triggered
    assert "worsening" in att.explanation and "78%" in att.explanation
    assert "22%" in att.explanation and "severe" in att.explanation
    # Now: the last 30 recorded days are weeks 2..7, 27 of 300 periods missed: 9%, under
    # the 10% chronic line (tier 1). Projected: 22% missed, severe (two points): tier 3.
    assert tr.current_tier == 1
    assert tr.projected_tier == 3
    assert tr.drivers == [Indicator.ATTENDANCE]
    assert tr.explanation.startswith(
        "Projected tier 3 in 4 weeks (now tier 1), driven by ATTENDANCE"
    )
    assert "78%" in tr.explanation
    # No incident at all: a real 0 every week, flat.
    inc = _indicator(tr, Indicator.BEHAVIOUR_INCIDENTS)
    assert [p.value for p in inc.points] == [0] * WEEKS
    assert inc.slope == 0 and inc.direction is Direction.STABLE and not inc.projected_triggered


async def test_fewer_negatives_each_week_is_improving(school: School) -> None:
    tr = school.result[school.improving]
    inc = _indicator(tr, Indicator.BEHAVIOUR_INCIDENTS)
    assert [p.value for p in inc.points] == [6, 5, 5, 4, 4, 3, 3, 3]
    # Mean y 33/8 = 4.125; Sxy = -6.5625 - 2.1875 - 1.3125 + 0.0625 - 0.0625 - 1.6875
    # - 2.8125 - 3.9375 = -18.5; Sxx = 42. At x = 11: 4.125 - 18.5/42 * (11 - 3.5).
    assert inc.slope == pytest.approx(-18.5 / 42)
    assert inc.direction is Direction.IMPROVING
    assert inc.current == 3
    assert inc.projected == pytest.approx(4.125 - 18.5 / 42 * 7.5)  # 0.82 a week
    assert not inc.projected_triggered
    assert "improving" in inc.explanation
    # Three negatives this week (tier 2 now); 0.82 a week is 1 in 7 days: tier 1 projected.
    assert tr.current_tier == 2
    assert tr.projected_tier == 1
    assert tr.drivers == []
    assert tr.explanation == (
        "Projected to fall to tier 1 in 4 weeks (now tier 2): "
        "no indicator is heading past its threshold"
    )
    # No attendance recorded: no value, no slope, no direction, no projection.
    att = _indicator(tr, Indicator.ATTENDANCE)
    assert [p.value for p in att.points] == [None] * WEEKS
    assert att.slope is None and att.direction is None and att.projected is None


async def test_rising_attendance_is_improving_and_clamped_at_100(school: School) -> None:
    tr = school.result[school.recovering]
    att = _indicator(tr, Indicator.ATTENDANCE)
    assert [p.value for p in att.points] == [72, 76, 80, 84, 88, 92, 96, 100]
    # y = 72 + 4x: slope 4; at x = 11 the line is 116, clamped to 100.
    assert att.slope == pytest.approx(4.0)
    assert att.direction is Direction.IMPROVING
    assert att.projected == 100
    # Now: weeks 2..7 miss 10 + 8 + 6 + 4 + 2 + 0 = 30 of 300 periods, 10%: chronic, tier 2.
    assert tr.current_tier == 2
    assert tr.projected_tier == 1
    assert tr.drivers == []


async def test_a_steady_student_is_stable_and_stays_at_its_tier(school: School) -> None:
    tr = school.result[school.steady]
    att = _indicator(tr, Indicator.ATTENDANCE)
    assert [p.value for p in att.points] == [96] * WEEKS
    assert att.slope == 0
    assert att.direction is Direction.STABLE
    assert att.projected == pytest.approx(96.0)
    assert _indicator(tr, Indicator.BEHAVIOUR_INCIDENTS).direction is Direction.STABLE
    course = _indicator(tr, Indicator.COURSE_PERFORMANCE)
    assert [p.value for p in course.points] == [None] * WEEKS  # no diagnostic ever
    assert course.slope is None and course.direction is None and course.current is None
    assert tr.current_tier == tr.projected_tier == 1
    assert tr.drivers == []
    assert tr.explanation == (
        "Projected to stay at tier 1: no indicator is heading past its threshold"
    )


async def test_a_tier_held_by_a_flat_series_is_explained(school: School) -> None:
    tr = school.result[school.constant]
    inc = _indicator(tr, Indicator.BEHAVIOUR_INCIDENTS)
    assert inc.slope == 0 and inc.direction is Direction.STABLE
    assert inc.projected == pytest.approx(3.0) and inc.projected_triggered
    assert tr.current_tier == tr.projected_tier == 2
    assert tr.drivers == [Indicator.BEHAVIOUR_INCIDENTS]
    assert tr.explanation == (
        "Projected to stay at tier 2, driven by BEHAVIOUR_INCIDENTS "
        "(3 negative incidents a week projected, 3 in the window)"
    )


async def test_placement_is_the_latest_diagnostic_by_each_week_worst_subject(
    school: School,
) -> None:
    tr = school.result[school.slipping]
    course = _indicator(tr, Indicator.COURSE_PERFORMANCE)
    # Math 1 above (-1) from before the series; Reading on level from week 2 (0 is worse
    # than -1), 1 below from week 5. The older Math 4 below was replaced before the series.
    assert [p.value for p in course.points] == [-1, -1, 0, 0, 0, 1, 1, 1]
    # Mean y 1/8; Sxy = 13.5 (by hand), Sxx = 42; at x = 11: 1/8 + 13.5/42 * 7.5 = 2.54,
    # rounded to 3 levels below: past the threshold of 2.
    assert course.slope == pytest.approx(13.5 / 42)
    assert course.direction is Direction.WORSENING
    assert course.current == 1
    assert course.projected == pytest.approx(0.125 + 13.5 / 42 * 7.5)
    assert course.projected_triggered
    assert tr.current_tier == 1
    assert tr.projected_tier == 2
    assert tr.drivers == [Indicator.COURSE_PERFORMANCE]
    assert "COURSE_PERFORMANCE (placement projected 3 grade levels below)" in tr.explanation


async def test_heading_into_lists_the_worsening_in_name_order(school: School, db: Database) -> None:
    # Amy (course, 1 -> 2), Dee, Mia, Pat and Zed (attendance, 1 -> 3); not Bo (2 already,
    # and staying), Casey (stays at 1), Kim nor Lee (2 -> 1). Ids are random: five in name
    # order by chance is one in 120.
    pat, dee, mia = school.also_falling
    falling = [dee, mia, pat, school.falling]
    assert await _heading_into(db, school.org, 2) == [school.slipping, *falling]
    assert await _heading_into(db, school.org, 3) == falling


async def test_weeks_are_the_org_local_weeks(db: Database) -> None:
    org = await _school_org(db)
    student = (await make_student(db, org)).id
    # Sunday 23:30 in New York is already Monday in UTC: it belongs to the week before.
    sunday = MONDAYS[6] - timedelta(days=1)
    await log(db, org, student, occurred_at=_local(sunday, 23, 30))
    # Neither a positive incident nor a void negative counts.
    await log(db, org, student, kind=IncidentKind.POSITIVE, occurred_at=_local(MONDAYS[4], 9))
    void = await log(db, org, student, occurred_at=_local(MONDAYS[3], 9))
    async with db.transaction(org.id) as session:
        await flows.void_incident(
            session, actor=org.principal(), incident_id=void.id, reason="test"
        )
    tr = (await _trajectories(db, org, [student]))[student]
    counts = [p.value for p in _indicator(tr, Indicator.BEHAVIOUR_INCIDENTS).points]
    assert counts == [0, 0, 0, 0, 0, 1, 0, 0]


async def test_only_the_org_students_are_returned(db: Database, school: School) -> None:
    other = await _school_org(db)
    stranger = (await make_student(db, other)).id
    found = await _trajectories(db, school.org, [school.steady, stranger])
    assert list(found) == [school.steady]
    assert await _trajectories(db, school.org, []) == {}


async def test_statements_do_not_grow_with_the_students(db: Database) -> None:
    counts = []
    for size in (1, 20):
        org = await _school_org(db)
        ids = [(await make_student(db, org)).id for _ in range(size)]
        days = [attendance.DayInput(sid, MONDAYS[-1], 6, period_codes={"1": "A"}) for sid in ids]
        async with db.transaction(org.id) as session:
            policy = await orgs.get_policy(session, org_id=org.id)
            await attendance.save_days(
                session, actor=org.principal(), days=days, policy=policy, now=NOW
            )
        await log(db, org, ids[-1], occurred_at=_local(MONDAYS[-1], 9))
        async with db.transaction(org.id) as session:
            policy = await orgs.get_policy(session, org_id=org.id)
            with counting_statements(db) as counter:
                found = await trajectories(
                    session, org_id=org.id, student_ids=ids, weeks=WEEKS, policy=policy, now=NOW
                )
            for_ids = len(counter.data_statements)
            with counting_statements(db) as counter:
                await heading_into(
                    session, org_id=org.id, min_tier=2, weeks=WEEKS, policy=policy, now=NOW
                )
            for_org = len(counter.data_statements)
        assert len(found) == size
        counts.append((for_ids, for_org))
    assert counts[0] == counts[1], counts
