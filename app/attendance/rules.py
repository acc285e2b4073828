"""Attendance rules that need no database: what a day's codes mean, which days may be
recorded, and the chronic-absence band.

A day or period with no code is present (Aeries' "negative attendance"); the daily percentage
is present periods / scheduled periods. A day counts toward every category its codes carry:
an A period and a T period make one unexcused absence and one tardy.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.attendance.models import AttendanceCategory, DailyStatus
from app.core import contracts
from app.core.errors import ErrorCode, FieldError, Validator
from app.orgs.policy import OrgPolicy, RiskThresholds, local_today

C = AttendanceCategory

DEFAULT_CODES: tuple[tuple[str, AttendanceCategory, str], ...] = (
    ("P", C.PRESENT, "Present"),
    ("E", C.EXCUSED, "Excused absence"),
    ("I", C.EXCUSED, "Illness"),
    ("M", C.EXCUSED, "Medical appointment"),
    ("A", C.UNEXCUSED, "Absent, not cleared"),
    ("U", C.UNEXCUSED, "Unexcused absence"),
    ("T", C.TARDY, "Tardy"),
    ("L", C.TARDY, "Late more than 30 minutes"),
    ("S", C.SUSPENSION, "Suspension"),
    ("X", C.TRUANCY, "Truancy"),
)

_ABSENT = {C.EXCUSED, C.UNEXCUSED, C.SUSPENSION, C.TRUANCY}
_ALL_DAY_STATUS = {
    C.PRESENT: DailyStatus.PRESENT,
    C.TARDY: DailyStatus.TARDY,
    C.EXCUSED: DailyStatus.ABSENT_EXCUSED,
    C.UNEXCUSED: DailyStatus.ABSENT_UNEXCUSED,
    C.SUSPENSION: DailyStatus.SUSPENDED,
    C.TRUANCY: DailyStatus.TRUANT,
}
# When every period is absent for different reasons, the most serious reason names the day.
_SEVERITY = [C.SUSPENSION, C.TRUANCY, C.UNEXCUSED, C.EXCUSED]
# The categories a day may carry besides present, each with a period count on the row.
COUNTED = (C.EXCUSED, C.UNEXCUSED, C.TARDY, C.SUSPENSION, C.TRUANCY)
# DESIGN's bands: under 5% satisfactory, then at risk up to the chronic threshold.
AT_RISK_ABSENCE_PCT = 5.0


# A day's period codes as sent: (period, code) pairs in input order (GraphQL's list), or a
# mapping of period to code (seeds, imports). Either way entry j's errors name
# periodCodes[j].period or periodCodes[j].code, j counting in that order.
PeriodCodes = Sequence[tuple[int | str, str]] | Mapping[str, str]


@dataclass
class DayInput:
    student_id: uuid.UUID
    day: date
    scheduled_periods: int
    all_day_code: str | None = None
    period_codes: PeriodCodes = field(default_factory=dict)


@dataclass(frozen=True)
class DayClassification:
    present_periods: int
    status: DailyStatus
    percentage: Decimal
    # Periods per category in COUNTED; the day counts toward each category above 0.
    category_periods: Mapping[AttendanceCategory, int] = field(default_factory=dict)
    # The codes as stored: upper case, blanks dropped, periods keyed "1", "2", ...
    all_day_code: str | None = None
    period_codes: Mapping[str, str] = field(default_factory=dict)

    def periods(self, category: AttendanceCategory) -> int:
        return self.category_periods.get(category, 0)


class ChronicBand(enum.StrEnum):
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    SATISFACTORY = "SATISFACTORY"
    AT_RISK = "AT_RISK"
    MODERATE = "MODERATE"
    SEVERE = "SEVERE"


def chronic_band(
    absence_pct: float | None, days_enrolled: int, t: RiskThresholds
) -> ChronicBand | None:
    """The one chronic-absence rule (summaries and the ATTENDANCE risk factor): None with no
    day recorded; INSUFFICIENT_DATA under t.min_enrolled_days days; then SEVERE from
    t.severe_absence_pct, MODERATE (chronic) from t.chronic_absence_pct, AT_RISK from 5%."""
    if absence_pct is None or days_enrolled == 0:
        return None
    if days_enrolled < t.min_enrolled_days:
        return ChronicBand.INSUFFICIENT_DATA
    if absence_pct >= t.severe_absence_pct:
        return ChronicBand.SEVERE
    if absence_pct >= t.chronic_absence_pct:
        return ChronicBand.MODERATE
    if absence_pct >= AT_RISK_ABSENCE_PCT:
        return ChronicBand.AT_RISK
    return ChronicBand.SATISFACTORY


def _period_number(period: int | str) -> int | None:
    if isinstance(period, bool):
        return None
    if isinstance(period, int):
        return period
    text = period.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def classify_day(
    day: DayInput, codes: dict[str, AttendanceCategory], prefix: str = ""
) -> DayClassification:
    """The one rule for a day: present periods, daily status and percentage. Errors name
    `{prefix}allDayCode`, `{prefix}scheduledPeriods` and `{prefix}periodCodes[j].period` /
    `.code` (j: the entry's index in day.period_codes)."""
    v = Validator(prefix)
    low, high = contracts.Periods.bounds
    v.int_range("scheduledPeriods", day.scheduled_periods, int(low), int(high))
    scheduled = day.scheduled_periods

    def category(field_name: str, raw: str | None) -> tuple[str | None, AttendanceCategory]:
        code = (raw or "").strip().upper()
        if not code:
            return None, C.PRESENT
        if code not in codes:
            v.add(field_name, f"unknown attendance code {code!r}", ErrorCode.UNKNOWN_CODE)
            return code, C.PRESENT
        return code, codes[code]

    all_day_code, all_day = category("allDayCode", day.all_day_code)
    entries = list(
        day.period_codes.items() if isinstance(day.period_codes, Mapping) else day.period_codes
    )
    stored: dict[str, str] = {}
    seen: set[int] = set()
    periods: list[AttendanceCategory] = []
    for j, (period, raw) in enumerate(entries):
        path = f"periodCodes[{j}]"
        number = _period_number(period)
        if number is None or not 1 <= number <= scheduled:
            v.add(
                f"{path}.period",
                f"period {period} is outside 1..{scheduled}",
                ErrorCode.OUT_OF_RANGE,
            )
        elif number in seen:
            v.add(f"{path}.period", f"period {number} is given twice", ErrorCode.DUPLICATE)
        code, kind = category(f"{path}.code", raw)
        if number is not None:
            seen.add(number)
            if code is not None:
                stored[str(number)] = code
        periods.append(kind)
    v.raise_if_any()

    counts = dict.fromkeys(COUNTED, 0)
    if all_day in _ABSENT:  # the all-day code overrides the periods
        counts[all_day] = scheduled
        return DayClassification(
            0, _ALL_DAY_STATUS[all_day], Decimal(0), counts, all_day_code, stored
        )
    for c in periods:
        if c in counts:
            counts[c] += 1
    if all_day == C.TARDY and not counts[C.TARDY]:  # late to school: one late arrival
        counts[C.TARDY] = 1
    absent = [c for c in periods if c in _ABSENT]
    present = scheduled - len(absent)
    pct = (Decimal(present) / Decimal(scheduled)).quantize(Decimal("0.0001"))
    if present == 0:
        worst = min(absent, key=_SEVERITY.index)
        status = _ALL_DAY_STATUS[worst]
    elif absent:
        status = DailyStatus.PARTIAL
    elif all_day == C.TARDY or C.TARDY in periods:
        status = DailyStatus.TARDY
    else:
        status = DailyStatus.PRESENT
    return DayClassification(present, status, pct, counts, all_day_code, stored)


def day_errors(day: date, *, policy: OrgPolicy, now: datetime, path: str) -> list[FieldError]:
    """A recorded day lies in the org's window: its current school year (or, in the first
    policy.attendance.correction_grace_days days of one, the previous year) up to its today."""
    first, last = policy.attendance.recordable(local_today(policy, now))
    if first <= day <= last:
        return []
    reason = "is in the future" if day > last else "is before the recordable school year"
    return [
        FieldError(
            path,
            f"{day.isoformat()} {reason}: days from {first.isoformat()} to {last.isoformat()} "
            f"({policy.timezone}) may be recorded",
            ErrorCode.OUT_OF_RANGE,
        )
    ]
