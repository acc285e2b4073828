"""Pure rules: attendance day classification, academic years, placements, growth."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from app.assessments.models import Assessment, AssessmentKind
from app.assessments.service import academic_year_for, grade_levels_relative, growth
from app.attendance.models import DailyStatus
from app.attendance.service import DEFAULT_CODES, DayInput, classify_day
from app.core.errors import ServiceError

CODES = {c: k for c, k, _ in DEFAULT_CODES}
SID = uuid.uuid4()


@pytest.mark.parametrize(
    ("all_day", "periods", "present", "status"),
    [
        (None, {}, 6, DailyStatus.PRESENT),
        ("E", {}, 0, DailyStatus.ABSENT_EXCUSED),
        ("S", {}, 0, DailyStatus.SUSPENDED),
        (None, {"1": "T"}, 6, DailyStatus.TARDY),
        (None, {"2": "A", "3": "A"}, 4, DailyStatus.PARTIAL),
        (None, {str(p): "U" for p in range(1, 7)}, 0, DailyStatus.ABSENT_UNEXCUSED),
        (None, {"1": "X", **{str(p): "E" for p in range(2, 7)}}, 0, DailyStatus.TRUANT),
    ],
)
def test_classify_day(
    all_day: str | None, periods: dict[str, str], present: int, status: DailyStatus
) -> None:
    result = classify_day(DayInput(SID, date(2026, 3, 2), 6, all_day, periods), CODES)
    assert (result.present_periods, result.status) == (present, status)
    assert result.percentage == (Decimal(present) / 6).quantize(Decimal("0.0001"))


def test_unknown_code_and_period_name_the_field() -> None:
    with pytest.raises(ServiceError) as exc:
        classify_day(DayInput(SID, date(2026, 3, 2), 6, "ZZ", {"9": "A"}), CODES)
    assert {e.field for e in exc.value.errors} == {"allDayCode", "periodCodes[0].period"}


def test_academic_year_starts_in_august() -> None:
    assert academic_year_for(date(2025, 7, 31)) == "2024-2025"
    assert academic_year_for(date(2025, 8, 1)) == "2025-2026"
    assert academic_year_for(date(2026, 3, 1)) == "2025-2026"


def test_relative_placement() -> None:
    assert grade_levels_relative("2 Grade Levels Below") == -2
    assert grade_levels_relative("3 or More Grade Levels Below") == -3
    assert grade_levels_relative("1 Grade Level Below") == -1
    assert grade_levels_relative("Mid or Above Grade Level") == 0
    assert grade_levels_relative(None) is None


def test_growth_first_to_latest_of_the_year() -> None:
    def diag(day: date, score: int) -> Assessment:
        return Assessment(
            kind=AssessmentKind.DIAGNOSTIC,
            subject="MATH",
            taken_on=day,
            academic_year=academic_year_for(day),
            scale_score=score,
            typical_growth=20,
        )

    (g,) = growth(
        [diag(date(2026, 5, 1), 470), diag(date(2025, 9, 1), 450), diag(date(2026, 1, 9), 455)]
    )
    assert (g.first_score, g.latest_score, g.points, g.percent_of_typical) == (450, 470, 20, 100.0)


def test_database_urls_people_paste_are_accepted() -> None:
    from app.config import normalize_database_url

    assert (
        normalize_database_url("postgres://u:p@db.example:5432/app?sslmode=require")
        == "postgresql+asyncpg://u:p@db.example:5432/app?ssl=require"
    )
    assert normalize_database_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"


def test_policy_settings_round_trip_the_timezone() -> None:
    from app.orgs.policy import OrgPolicy, policy_from_settings, policy_to_settings

    policy = OrgPolicy(timezone="America/Chicago")
    assert policy_from_settings(policy_to_settings(policy)) == policy
    assert policy_from_settings({}).timezone == "UTC"


def test_local_today_across_the_date_line() -> None:
    from datetime import UTC, datetime, timedelta

    from app.orgs.policy import OrgPolicy, local_midnight, local_today

    now = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # Monday 11:30 UTC
    kiritimati, samoa_us = (
        OrgPolicy(timezone="Pacific/Kiritimati"),
        OrgPolicy(timezone="Pacific/Pago_Pago"),
    )
    assert local_today(kiritimati, now) == date(2026, 3, 3)  # UTC+14: already Tuesday
    assert local_today(samoa_us, now) == date(2026, 3, 2)  # UTC-11: still Monday (00:30)
    assert local_today(samoa_us, now - timedelta(hours=1)) == date(2026, 3, 1)
    assert local_today(OrgPolicy(), now.replace(tzinfo=None)) == date(2026, 3, 2)  # naive = UTC

    midnight = local_midnight(kiritimati, now)
    assert midnight.utcoffset() == timedelta(hours=14)
    assert midnight == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert local_midnight(samoa_us, now) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_local_midnight_when_dst_skips_it() -> None:
    from datetime import UTC, datetime

    from app.orgs.policy import OrgPolicy, local_midnight

    # Chile springs forward at 00:00 on 2026-09-06: that day starts at 01:00 local (-03).
    santiago = OrgPolicy(timezone="America/Santiago")
    start = local_midnight(santiago, datetime(2026, 9, 6, 15, 0, tzinfo=UTC))
    assert start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert (start.hour, start.minute, start.date()) == (1, 0, date(2026, 9, 6))
