"""Attendance: the org's code table, recording days, and summaries.

Codes belong to the district (each org's table); what they mean for a day is in `rules`
(re-exported here). Days outside the org's recordable window (policy.attendance) are refused;
the chronic-absence band needs policy.risk.min_enrolled_days recorded days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance.models import AttendanceCategory, AttendanceCode, AttendanceDay
from app.attendance.rules import DEFAULT_CODES as DEFAULT_CODES
from app.attendance.rules import ChronicBand as ChronicBand
from app.attendance.rules import DayClassification as DayClassification
from app.attendance.rules import DayInput as DayInput
from app.attendance.rules import chronic_band as chronic_band
from app.attendance.rules import classify_day as classify_day
from app.attendance.rules import day_errors as day_errors
from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import FieldError, ServiceError, Validator
from app.orgs import service as orgs
from app.orgs.policy import OrgPolicy, RiskThresholds
from app.students import service as students

C = AttendanceCategory


@dataclass(frozen=True)
class AttendanceSummary:
    start: date | None
    end: date | None
    days_enrolled: int
    days_present: float
    days_absent: float
    rate: float | None  # present periods / scheduled periods over the range, 0..1
    # Days carrying each category (a day may count toward several) ...
    excused_absences: int
    unexcused_absences: int
    tardies: int
    suspensions: int
    truancies: int
    # ... and the periods carrying it.
    excused_periods: int = 0
    unexcused_periods: int = 0
    tardy_periods: int = 0
    suspension_periods: int = 0
    truancy_periods: int = 0

    @property
    def absence_pct(self) -> float | None:
        return None if self.rate is None else round((1 - self.rate) * 100, 2)

    def band(self, t: RiskThresholds) -> ChronicBand | None:
        return chronic_band(self.absence_pct, self.days_enrolled, t)


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


async def save_days(
    session: AsyncSession,
    *,
    actor: Principal,
    days: Sequence[DayInput],
    source: str = "console",
    policy: OrgPolicy | None = None,
    now: datetime | None = None,
) -> list[AttendanceDay]:
    """Upsert one row per student per day; a later record for the same day replaces it.
    Validates every day first: on any error nothing is written, and each error names
    `days[i].<field>` (a batch of one too). (Use flows.record_days, which also recomputes
    risk.)"""
    policy = policy or await orgs.get_policy(session, org_id=actor.org_id)
    now = now or datetime.now(UTC)
    codes = await code_table(session, org_id=actor.org_id)
    errors: list[FieldError] = []
    classified: list[tuple[DayInput, DayClassification]] = []
    for i, day in enumerate(days):
        prefix = f"days[{i}]."
        errors += day_errors(day.day, policy=policy, now=now, path=f"{prefix}day")
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
        row.excused_periods = result.periods(C.EXCUSED)
        row.unexcused_periods = result.periods(C.UNEXCUSED)
        row.tardy_periods = result.periods(C.TARDY)
        row.suspension_periods = result.periods(C.SUSPENSION)
        row.truancy_periods = result.periods(C.TRUANCY)
        row.source = source
        changes.append((row, before))
    await audit.record_many(session, actor=actor, action="attendance.record", changes=changes)
    saved = [row for row, _ in changes]
    return saved


def _to_summary(row: Sequence[Any]) -> AttendanceSummary:
    first, last, days, present_days, present_p, scheduled_p = row[:6]
    # Then per category in COUNTED: the days carrying it, and the periods carrying it.
    day_counts = [int(n or 0) for n in row[6:11]]
    period_counts = [int(n or 0) for n in row[11:16]]
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
        excused_absences=day_counts[0],
        unexcused_absences=day_counts[1],
        tardies=day_counts[2],
        suspensions=day_counts[3],
        truancies=day_counts[4],
        excused_periods=period_counts[0],
        unexcused_periods=period_counts[1],
        tardy_periods=period_counts[2],
        suspension_periods=period_counts[3],
        truancy_periods=period_counts[4],
    )


_SUMMARY_COLUMNS = """
    student_id, min(day), max(day), count(*), sum(percentage), sum(present_periods),
    sum(scheduled_periods),
    count(*) FILTER (WHERE excused_periods > 0),
    count(*) FILTER (WHERE unexcused_periods > 0),
    count(*) FILTER (WHERE tardy_periods > 0),
    count(*) FILTER (WHERE suspension_periods > 0),
    count(*) FILTER (WHERE truancy_periods > 0),
    sum(excused_periods), sum(unexcused_periods), sum(tardy_periods),
    sum(suspension_periods), sum(truancy_periods)"""
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
        FROM attendance_days WHERE org_id = :org_id AND student_id = ANY(:ids)
          AND (CAST(:end AS date) IS NULL OR day <= :end)) AS recent
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

    Either over a date range, or over each student's last `last_n_days` recorded school days
    (up to `end` when given).
    """
    ids = list(student_ids)
    if last_n_days is not None:
        params: dict[str, object] = {"org_id": org_id, "ids": ids, "n": last_n_days, "end": end}
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
