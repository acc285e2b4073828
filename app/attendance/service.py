"""Attendance: the org's code table, classifying a day, recording days, and summaries.

Codes belong to the district (each org's table); a day or period with no code is present
(Aeries' "negative attendance"). The daily percentage is present periods / scheduled periods.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance.models import AttendanceCategory, AttendanceCode, AttendanceDay, DailyStatus
from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.students import service as students

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


@dataclass
class DayInput:
    student_id: uuid.UUID
    day: date
    scheduled_periods: int
    all_day_code: str | None = None
    period_codes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DayClassification:
    present_periods: int
    status: DailyStatus
    percentage: Decimal


@dataclass(frozen=True)
class AttendanceSummary:
    start: date | None
    end: date | None
    days_enrolled: int
    days_present: float
    days_absent: float
    rate: float | None  # present periods / scheduled periods over the range, 0..1
    excused_absences: int
    unexcused_absences: int
    tardies: int
    suspensions: int
    truancies: int

    @property
    def absence_pct(self) -> float | None:
        return None if self.rate is None else round((1 - self.rate) * 100, 2)

    @property
    def chronic_band(self) -> str | None:
        """Chronic absence bands (missing 10%+ of enrolled days is chronic)."""
        pct = self.absence_pct
        if pct is None:
            return None
        if pct < 5:
            return "SATISFACTORY"
        if pct < 10:
            return "AT_RISK"
        if pct < 20:
            return "MODERATE"
        return "SEVERE"


EMPTY_SUMMARY = AttendanceSummary(None, None, 0, 0.0, 0.0, None, 0, 0, 0, 0, 0)


async def seed_default_codes(session: AsyncSession, *, org_id: uuid.UUID) -> None:
    await session.execute(
        insert(AttendanceCode)
        .values(
            [
                {"id": uuid.uuid4(), "org_id": org_id, "code": c, "category": k, "description": d}
                for c, k, d in DEFAULT_CODES
            ]
        )
        .on_conflict_do_nothing()
    )


async def code_table(session: AsyncSession, *, org_id: uuid.UUID) -> dict[str, AttendanceCategory]:
    rows = await session.execute(
        select(AttendanceCode.code, AttendanceCode.category).where(AttendanceCode.org_id == org_id)
    )
    return {code.upper(): category for code, category in rows}


async def list_codes(session: AsyncSession, *, org_id: uuid.UUID) -> list[AttendanceCode]:
    rows = await session.execute(
        select(AttendanceCode).where(AttendanceCode.org_id == org_id).order_by(AttendanceCode.code)
    )
    return list(rows.scalars())


async def set_code(
    session: AsyncSession,
    *,
    actor: Principal,
    code: str,
    category: AttendanceCategory,
    description: str | None,
) -> AttendanceCode:
    v = Validator()
    cleaned = v.text("code", code, max_length=16, required=True)
    desc = v.text("description", description, max_length=200)
    v.raise_if_any()
    assert cleaned is not None
    existing = (
        await session.execute(
            select(AttendanceCode).where(
                AttendanceCode.org_id == actor.org_id,
                func.upper(AttendanceCode.code) == cleaned.upper(),
            )
        )
    ).scalar_one_or_none()
    before = None if existing is None else audit.snapshot(existing)
    row = existing or AttendanceCode(org_id=actor.org_id, code=cleaned.upper())
    row.category = category
    row.description = desc
    session.add(row)
    await audit.record(
        session, actor=actor, action="attendance_code.set", entity=row, before=before
    )
    return row


def classify_day(
    day: DayInput, codes: dict[str, AttendanceCategory], prefix: str = ""
) -> DayClassification:
    """The one rule for a day: present periods, daily status and percentage."""
    v = Validator(prefix)
    v.int_range("scheduledPeriods", day.scheduled_periods, 1, 20)

    def category(field_name: str, raw: str | None) -> AttendanceCategory:
        code = (raw or "").strip().upper()
        if not code:
            return C.PRESENT
        if code not in codes:
            v.add(field_name, f"unknown attendance code {code!r}", ErrorCode.UNKNOWN_CODE)
            return C.PRESENT
        return codes[code]

    all_day = category("allDayCode", day.all_day_code)
    periods: list[AttendanceCategory] = []
    for period, raw in sorted(day.period_codes.items()):
        if not period.isdigit() or not 1 <= int(period) <= day.scheduled_periods:
            v.add(
                f"periodCodes.{period}",
                f"period {period} is outside 1..{day.scheduled_periods}",
                ErrorCode.OUT_OF_RANGE,
            )
        periods.append(category(f"periodCodes.{period}", raw))
    v.raise_if_any()

    scheduled = day.scheduled_periods
    if all_day in _ABSENT:
        return DayClassification(0, _ALL_DAY_STATUS[all_day], Decimal(0))
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
    return DayClassification(present, status, pct)


async def save_days(
    session: AsyncSession, *, actor: Principal, days: Sequence[DayInput], source: str = "console"
) -> list[AttendanceDay]:
    """Upsert one row per student per day; a later record for the same day replaces it.
    Validates every day first: on any error nothing is written. (Use flows.record_days,
    which also recomputes risk.)"""
    codes = await code_table(session, org_id=actor.org_id)
    errors: list[FieldError] = []
    classified: list[tuple[DayInput, DayClassification]] = []
    for i, day in enumerate(days):
        prefix = f"days[{i}]." if len(days) > 1 else ""
        try:
            classified.append((day, classify_day(day, codes, prefix)))
        except ServiceError as exc:
            errors.extend(exc.errors)
    errors += await students.unknown_student_errors(
        session, org_id=actor.org_id, student_ids=[d.student_id for d in days], list_name="days"
    )
    student_ids = {d.student_id for d in days}
    if errors:
        raise ServiceError(errors)

    existing = {
        (row.student_id, row.day): row
        for row in (
            await session.execute(
                select(AttendanceDay).where(
                    AttendanceDay.org_id == actor.org_id,
                    AttendanceDay.student_id.in_(student_ids),
                    AttendanceDay.day.in_({d.day for d in days}),
                )
            )
        ).scalars()
    }
    changes: list[tuple[AttendanceDay, dict[str, object] | None]] = []
    for day, result in classified:
        row = existing.get((day.student_id, day.day))
        before = None if row is None else audit.snapshot(row)
        if row is None:
            row = AttendanceDay(org_id=actor.org_id, student_id=day.student_id, day=day.day)
            session.add(row)
            existing[(day.student_id, day.day)] = row
        row.all_day_code = (day.all_day_code or "").strip().upper() or None
        row.period_codes = {k: v.strip().upper() for k, v in day.period_codes.items() if v.strip()}
        row.scheduled_periods = day.scheduled_periods
        row.present_periods = result.present_periods
        row.daily_status = result.status
        row.percentage = result.percentage
        row.source = source
        changes.append((row, before))
    await audit.record_many(session, actor=actor, action="attendance.record", changes=changes)
    saved = [row for row, _ in changes]
    return saved


def _to_summary(row: Sequence[Any]) -> AttendanceSummary:
    first, last, days, present_days, present_p, scheduled_p, exc, unexc, tardy, susp, truant = row
    days_n = int(days or 0)
    present = float(present_days or 0)
    rate = float(present_p) / float(scheduled_p) if scheduled_p else None
    return AttendanceSummary(
        start=first,
        end=last,
        days_enrolled=days_n,
        days_present=round(present, 4),
        days_absent=round(days_n - present, 4),
        rate=None if rate is None else round(rate, 4),
        excused_absences=int(exc or 0),
        unexcused_absences=int(unexc or 0),
        tardies=int(tardy or 0),
        suspensions=int(susp or 0),
        truancies=int(truant or 0),
    )


_SUMMARY_COLUMNS = """
    student_id, min(day), max(day), count(*), sum(percentage), sum(present_periods),
    sum(scheduled_periods),
    count(*) FILTER (WHERE daily_status = 'ABSENT_EXCUSED'),
    count(*) FILTER (WHERE daily_status = 'ABSENT_UNEXCUSED'),
    count(*) FILTER (WHERE daily_status = 'TARDY'),
    count(*) FILTER (WHERE daily_status = 'SUSPENDED'),
    count(*) FILTER (WHERE daily_status = 'TRUANT')"""
# Written once as SQL: these run on every incident (risk) and every dashboard row, and
# building the equivalent Core construct per call cost more than the query itself.
_RANGE_SUMMARY = text(
    f"""SELECT {_SUMMARY_COLUMNS} FROM attendance_days
    WHERE org_id = :org_id AND student_id = ANY(:ids)
      AND (CAST(:start AS date) IS NULL OR day >= :start)
      AND (CAST(:end AS date) IS NULL OR day <= :end)
    GROUP BY student_id"""
)
_RECENT_SUMMARY = text(
    f"""SELECT {_SUMMARY_COLUMNS} FROM (
        SELECT *, row_number() OVER (PARTITION BY student_id ORDER BY day DESC) AS rn
        FROM attendance_days WHERE org_id = :org_id AND student_id = ANY(:ids)) AS recent
    WHERE rn <= :n
    GROUP BY student_id"""
)


async def summaries(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    start: date | None = None,
    end: date | None = None,
    last_n_days: int | None = None,
) -> dict[uuid.UUID, AttendanceSummary]:
    """Attendance summaries for many students in one statement.

    Either over a date range, or over each student's last `last_n_days` recorded school days.
    """
    ids = list(student_ids)
    if last_n_days is not None:
        params: dict[str, object] = {"org_id": org_id, "ids": ids, "n": last_n_days}
        rows = await session.execute(_RECENT_SUMMARY, params)
    else:
        params = {"org_id": org_id, "ids": ids, "start": start, "end": end}
        rows = await session.execute(_RANGE_SUMMARY, params)
    result = {row[0]: _to_summary(row[1:]) for row in rows}
    return {sid: result.get(sid, EMPTY_SUMMARY) for sid in ids}


async def days_for(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    start: date | None,
    end: date | None,
) -> dict[uuid.UUID, list[AttendanceDay]]:
    ids = list(student_ids)
    stmt = select(AttendanceDay).where(
        AttendanceDay.org_id == org_id, AttendanceDay.student_id.in_(ids)
    )
    if start is not None:
        stmt = stmt.where(AttendanceDay.day >= start)
    if end is not None:
        stmt = stmt.where(AttendanceDay.day <= end)
    out: dict[uuid.UUID, list[AttendanceDay]] = {sid: [] for sid in ids}
    for row in (await session.execute(stmt.order_by(AttendanceDay.day.desc()))).scalars():
        out[row.student_id].append(row)
    return out
