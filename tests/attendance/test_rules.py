"""Pure attendance rules: category counts, the recordable window, the chronic-absence band."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from app.attendance.models import AttendanceCategory as C
from app.attendance.models import DailyStatus
from app.attendance.rules import (
    DEFAULT_CODES,
    ChronicBand,
    DayInput,
    chronic_band,
    classify_day,
    day_errors,
)
from app.orgs.policy import (
    AttendancePolicy,
    OrgPolicy,
    RiskThresholds,
    policy_errors,
    policy_from_settings,
    policy_to_settings,
)
from app.risk.service import Indicator, RiskInputs, evaluate

CODES = {c: k for c, k, _ in DEFAULT_CODES}
SID = uuid.uuid4()


def _classify(all_day: str | None, periods: dict[str, str]) -> dict[C, int]:
    result = classify_day(DayInput(SID, date(2026, 11, 2), 6, all_day, periods), CODES)
    return {c: n for c, n in result.category_periods.items() if n}


def test_an_a_period_and_a_t_period_count_toward_both() -> None:
    result = classify_day(DayInput(SID, date(2026, 11, 2), 6, None, {"1": "A", "2": "T"}), CODES)
    assert result.status is DailyStatus.PARTIAL  # the day's status is still one value ...
    assert result.periods(C.UNEXCUSED) == 1  # ... but it carries both categories
    assert result.periods(C.TARDY) == 1
    assert result.present_periods == 5


@pytest.mark.parametrize(
    ("all_day", "periods", "counts"),
    [
        (None, {}, {}),
        ("P", {"3": "L"}, {C.TARDY: 1}),
        ("U", {"1": "T"}, {C.UNEXCUSED: 6}),  # an all-day absence overrides the periods
        ("S", {}, {C.SUSPENSION: 6}),
        ("T", {}, {C.TARDY: 1}),  # late to school: one late arrival
        ("T", {"1": "T", "2": "L"}, {C.TARDY: 2}),
        ("T", {"4": "E"}, {C.TARDY: 1, C.EXCUSED: 1}),
        (
            None,
            {"1": "E", "2": "A", "3": "X", "4": "T"},
            {C.EXCUSED: 1, C.UNEXCUSED: 1, C.TRUANCY: 1, C.TARDY: 1},
        ),
    ],
)
def test_periods_per_category(
    all_day: str | None, periods: dict[str, str], counts: dict[C, int]
) -> None:
    assert _classify(all_day, periods) == counts


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2026, 12, 2), date(2026, 8, 1)),
        (date(2026, 8, 1), date(2025, 8, 1)),  # first day of a year: last year's corrections
        (date(2026, 8, 30), date(2025, 8, 1)),  # day 30 of the year: still in the grace
        (date(2026, 8, 31), date(2026, 8, 1)),  # day 31: the grace is over
        (date(2026, 7, 31), date(2025, 8, 1)),  # summer: still the year that began last August
        (date(2027, 1, 15), date(2026, 8, 1)),
    ],
)
def test_recordable_window(today: date, first: date) -> None:
    assert AttendancePolicy().recordable(today) == (first, today)


def test_recordable_window_follows_the_policy() -> None:
    southern = AttendancePolicy(school_year_start="01-27", correction_grace_days=0)
    assert southern.recordable(date(2026, 1, 27)) == (date(2026, 1, 27), date(2026, 1, 27))
    assert southern.recordable(date(2026, 1, 26)) == (date(2025, 1, 27), date(2026, 1, 26))
    assert AttendancePolicy(correction_grace_days=60).recordable(date(2026, 9, 29))[0] == date(
        2025, 8, 1
    )


def test_day_errors_name_the_field_and_use_the_org_today() -> None:
    now = datetime(2026, 12, 2, 11, 30, tzinfo=UTC)  # already 3 December at UTC+14
    kiritimati = OrgPolicy(timezone="Pacific/Kiritimati")
    assert day_errors(date(2026, 12, 3), policy=kiritimati, now=now, path="days[0].day") == []
    (future,) = day_errors(date(2026, 12, 3), policy=OrgPolicy(), now=now, path="days[0].day")
    assert (future.field, future.code.value) == ("days[0].day", "OUT_OF_RANGE")
    assert "future" in future.message and "2026-08-01 to 2026-12-02" in future.message
    (past,) = day_errors(date(2026, 7, 31), policy=OrgPolicy(), now=now, path="days[4].day")
    assert (past.field, past.code.value) == ("days[4].day", "OUT_OF_RANGE")
    assert day_errors(date(2026, 8, 1), policy=OrgPolicy(), now=now, path="d") == []


@pytest.mark.parametrize(
    ("pct", "days", "band"),
    [
        (None, 0, None),
        (33.33, 3, ChronicBand.INSUFFICIENT_DATA),  # 1 absence in 3 days: too few to judge
        (0.0, 9, ChronicBand.INSUFFICIENT_DATA),
        (4.99, 10, ChronicBand.SATISFACTORY),
        (5.0, 10, ChronicBand.AT_RISK),
        (10.0, 10, ChronicBand.MODERATE),
        (19.99, 40, ChronicBand.MODERATE),
        (20.0, 10, ChronicBand.SEVERE),
    ],
)
def test_chronic_band(pct: float | None, days: int, band: ChronicBand | None) -> None:
    assert chronic_band(pct, days, RiskThresholds()) is band


def test_chronic_band_follows_the_thresholds() -> None:
    t = RiskThresholds(min_enrolled_days=3, chronic_absence_pct=4.0, severe_absence_pct=30.0)
    assert chronic_band(33.33, 3, t) is ChronicBand.SEVERE
    assert chronic_band(4.5, 3, t) is ChronicBand.MODERATE  # chronic below 5%: no AT_RISK band
    assert chronic_band(3.0, 3, t) is ChronicBand.SATISFACTORY


def test_risk_ignores_attendance_until_enough_days() -> None:
    few = evaluate(RiskInputs(0, 0, 33.33, 3, None), RiskThresholds())
    assert few.tier == 1 and few.contributing == []
    (factor,) = [f for f in few.factors if f.indicator is Indicator.ATTENDANCE]
    assert factor.value == 33.33 and not factor.triggered
    assert factor.detail == "too few school days to judge: missed 33.33% of 3 recorded, 10 needed"

    enough = evaluate(RiskInputs(0, 0, 33.33, 3, None), RiskThresholds(min_enrolled_days=3))
    assert enough.tier == 3 and enough.contributing[0]["weight"] == 2
    assert evaluate(RiskInputs(0, 0, 10.0, 10, None), RiskThresholds()).tier == 2
    nothing = evaluate(RiskInputs(0, 0, None, 0, None), RiskThresholds())
    assert nothing.factors[2].detail == "no attendance recorded"


def test_attendance_policy_round_trips_and_is_validated() -> None:
    policy = OrgPolicy(
        attendance=AttendancePolicy(school_year_start="09-01", correction_grace_days=10),
        risk=RiskThresholds(min_enrolled_days=5),
    )
    assert policy_from_settings(policy_to_settings(policy)) == policy
    assert policy_from_settings({}).attendance == AttendancePolicy("08-01", 30)
    assert policy_errors(OrgPolicy()) == []

    def fields(policy: OrgPolicy) -> set[tuple[str | None, str]]:
        return {(e.field, e.code.value) for e in policy_errors(policy)}

    for start in ("02-29", "8-1", "13-01", "04-31", "", "0801"):
        bad = OrgPolicy(attendance=AttendancePolicy(school_year_start=start))
        assert fields(bad) == {("attendance.schoolYearStart", "INVALID")}, start
    assert fields(OrgPolicy(attendance=AttendancePolicy(correction_grace_days=-1))) == {
        ("attendance.correctionGraceDays", "OUT_OF_RANGE")
    }
    # More than the risk window could never be reached: attendance would never count.
    assert fields(OrgPolicy(risk=RiskThresholds(min_enrolled_days=31))) == {
        ("risk.minEnrolledDays", "OUT_OF_RANGE")
    }
    assert fields(OrgPolicy(risk=RiskThresholds(min_enrolled_days=0))) == {
        ("risk.minEnrolledDays", "OUT_OF_RANGE")
    }
