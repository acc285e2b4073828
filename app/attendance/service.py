"""Attendance: the org's code table, recording days, and summaries.

Codes belong to the district (each org's table); what they mean for a day is in `rules`
(re-exported here). Days outside the org's recordable window (policy.attendance) are refused;
the chronic-absence band needs policy.risk.min_enrolled_days recorded days.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Executable, String, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
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
from app.core import contracts
from app.core.errors import FieldError, ServiceError, Validator
from app.db import DriverSql, driver_fetch
from app.events import service as events
from app.events.service import Topic
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


_OLD_CODE = audit.old_columns(AttendanceCode)
_OLD_DAY = audit.old_columns(AttendanceDay)
# asyncpg binds at most 32767 parameters in one statement: longer batches take several.
_MAX_PARAMETERS = 32_767


async def set_code(
    session: AsyncSession,
    *,
    actor: Principal,
    code: str,
    category: AttendanceCategory,
    description: str | None,
) -> AttendanceCode:
    """Define or change a code, in one statement that cannot race: a concurrent definition
    of the same code waits on the row lock, then updates (the later one wins)."""
    v = Validator()
    cleaned = v.text("code", code, max_length=contracts.Code.length, required=True)
    desc = v.text("description", description, max_length=contracts.Description.length)
    v.raise_if_any()
    assert cleaned is not None
    values = {"code": cleaned.upper(), "category": category, "description": desc}
    stmt = insert(AttendanceCode).values(id=uuid.uuid4(), org_id=actor.org_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[AttendanceCode.org_id, AttendanceCode.code],
        set_={
            "category": stmt.excluded.category,
            "description": stmt.excluded.description,
            "updated_at": func.now(),
        },
    )
    result = await session.execute(
        stmt.returning(AttendanceCode, *_OLD_CODE).execution_options(populate_existing=True)
    )
    row = result.one()
    saved: AttendanceCode = row[0]
    await audit.record(
        session,
        actor=actor,
        action="attendance_code.set",
        entity=saved,
        before=audit.before_upsert(AttendanceCode, row._mapping),
    )
    return saved


async def save_days(
    session: AsyncSession,
    *,
    actor: Principal,
    days: Sequence[DayInput],
    source: str = "console",
    policy: OrgPolicy | None = None,
    now: datetime | None = None,
) -> list[AttendanceDay]:
    """Upsert one row per student per day; a later record for the same day replaces it (in
    one batch too: the later item wins). Validates every day first: on any error nothing is
    written, and each error names `days[i].<field>` (a batch of one too). One INSERT ... ON
    CONFLICT DO UPDATE writes the batch, so concurrent records of the same day cannot race:
    the later waits on the row lock, then replaces, and its audit 'before' is exactly what it
    replaced. Returns the stored row of each item, in order. (Use flows.record_days, which
    also recomputes risk.)"""
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
    if errors:
        raise ServiceError(errors)

    # One ON CONFLICT DO UPDATE may not touch a row twice: the later item of a key wins.
    latest: dict[tuple[uuid.UUID, date], dict[str, Any]] = {}
    for day, result in classified:
        latest[(day.student_id, day.day)] = {
            "id": uuid.uuid4(),
            "org_id": actor.org_id,
            **stored_values(day, result),
            "source": source,
        }
    # In key order, so that concurrent batches lock shared rows in the same order.
    rows = [latest[key] for key in sorted(latest)]
    stored: dict[tuple[uuid.UUID, date], AttendanceDay] = {}
    changes: list[tuple[AttendanceDay, dict[str, Any] | None]] = []
    if rows:
        for row in await session.execute(_UPSERT_DAYS, _day_arrays(rows)):
            saved: AttendanceDay = row[0]
            stored[(saved.student_id, saved.day)] = saved
            changes.append((saved, audit.before_upsert(AttendanceDay, row._mapping)))
    await audit.record_many(session, actor=actor, action="attendance.record", changes=changes)
    recorded: dict[uuid.UUID, list[str]] = {}
    for student_id, on in sorted(stored):
        recorded.setdefault(student_id, []).append(on.isoformat())
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.ATTENDANCE_RECORDED,
        students={sid: {"days": days} for sid, days in recorded.items()},
    )
    return [stored[(d.student_id, d.day)] for d, _ in classified]


def stored_values(day: DayInput, result: DayClassification) -> dict[str, Any]:
    """What a recorded day stores of `day` as `classify_day` classified it (identity and
    source apart): an import compares these with the stored row to skip unchanged days."""
    return {
        "student_id": day.student_id,
        "day": day.day,
        "all_day_code": result.all_day_code,
        "period_codes": dict(result.period_codes),
        "scheduled_periods": day.scheduled_periods,
        "present_periods": result.present_periods,
        "daily_status": result.status,
        "percentage": result.percentage,
        "excused_periods": result.periods(C.EXCUSED),
        "unexcused_periods": result.periods(C.UNEXCUSED),
        "tardy_periods": result.periods(C.TARDY),
        "suspension_periods": result.periods(C.SUSPENSION),
        "truancy_periods": result.periods(C.TRUANCY),
    }


# A record replaces everything but the row's identity and its creation time.
_DAY_IDENTITY = {"id", "org_id", "student_id", "day"}


# The recorded columns, in the order the batch's arrays are bound.
_DAY_COLUMNS = (
    "id",
    "org_id",
    "student_id",
    "day",
    "all_day_code",
    "period_codes",
    "scheduled_periods",
    "present_periods",
    "daily_status",
    "percentage",
    "excused_periods",
    "unexcused_periods",
    "tardy_periods",
    "suspension_periods",
    "truancy_periods",
    "source",
)


def _build_upsert_days() -> Executable:
    """One statement for a batch of any size, built (and so compiled and prepared) once:
    the batch comes as one array per column, unnested into rows. (A multi-row VALUES list
    is a new statement for each batch size, with a bind per value: compiling a 1,000-day
    batch cost more than running it.)"""
    table = AttendanceDay.__table__
    arrays = [
        bindparam(name, type_=ARRAY(String if name == "period_codes" else table.c[name].type))
        for name in _DAY_COLUMNS
    ]
    rows = func.unnest(*arrays).table_valued(*_DAY_COLUMNS).render_derived(with_types=False)
    source = select(
        *(
            cast(rows.c[name], JSONB) if name == "period_codes" else rows.c[name]
            for name in _DAY_COLUMNS
        )
    )
    stmt = insert(AttendanceDay).from_select([table.c[name] for name in _DAY_COLUMNS], source)
    replaced = {name: stmt.excluded[name] for name in _DAY_COLUMNS if name not in _DAY_IDENTITY}
    return (
        stmt.on_conflict_do_update(
            index_elements=[AttendanceDay.student_id, AttendanceDay.day],
            set_={**replaced, "updated_at": func.now()},
        )
        .returning(AttendanceDay, *_OLD_DAY)
        .execution_options(populate_existing=True, dml_strategy="orm")
    )


_UPSERT_DAYS = _build_upsert_days()
# What a record writes of an existing day (an import's rollback puts these back).
RECORDED_COLUMNS = tuple(c for c in _DAY_COLUMNS if c not in _DAY_IDENTITY)


def _day_arrays(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {
        name: [json.dumps(r[name]) if name == "period_codes" else r[name] for r in rows]
        for name in _DAY_COLUMNS
    }


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


# An AttendanceSummary's columns (summary_of reads them), aggregated over attendance_days.
SUMMARY_COLUMN_COUNT = 16
_AGGREGATES = """
    min(day), max(day), count(*) AS days, sum(percentage), sum(present_periods),
    sum(scheduled_periods),
    count(*) FILTER (WHERE excused_periods > 0),
    count(*) FILTER (WHERE unexcused_periods > 0),
    count(*) FILTER (WHERE tardy_periods > 0),
    count(*) FILTER (WHERE suspension_periods > 0),
    count(*) FILTER (WHERE truancy_periods > 0),
    sum(excused_periods), sum(unexcused_periods), sum(tardy_periods),
    sum(suspension_periods), sum(truancy_periods)"""


def recent_summary_sql(student: str) -> str:
    """One student's summary over their last `:n` recorded school days up to `:end` (NULL:
    the latest), as a SELECT of the summary's columns: `student` is the SQL expression of the
    student's id; `:org_id`, `:n` and `:end` are parameters. The one copy of the rule: risk
    reads it inside its own statement (app.risk.service), `summaries` for many students."""
    return f"""SELECT {_AGGREGATES} FROM (
        SELECT * FROM attendance_days WHERE org_id = :org_id AND student_id = {student}
          AND (CAST(:end AS date) IS NULL OR day <= :end)
        ORDER BY day DESC LIMIT :n) AS recent"""


def summary_of(row: Sequence[Any]) -> AttendanceSummary:
    """The summary of the columns `recent_summary_sql` selects (EMPTY_SUMMARY for no days)."""
    return _to_summary(row) if row[2] else EMPTY_SUMMARY


# Written once as SQL: these run on every incident (risk) and every dashboard row, and
# building the equivalent Core construct per call cost more than the query itself.
_RANGE_SUMMARY = DriverSql.of(
    f"""SELECT student_id, {_AGGREGATES} FROM attendance_days
    WHERE org_id = :org_id AND student_id = ANY(:ids)
      AND (CAST(:start AS date) IS NULL OR day >= :start)
      AND (CAST(:end AS date) IS NULL OR day <= :end)
    GROUP BY student_id"""
)
_RECENT_SUMMARY = DriverSql.of(
    f"""SELECT u.id, a.* FROM unnest(CAST(:ids AS uuid[])) AS u(id)
    CROSS JOIN LATERAL ({recent_summary_sql("u.id")}) AS a
    WHERE a.days > 0"""
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
        statement = _RECENT_SUMMARY
    else:
        params = {"org_id": org_id, "ids": ids, "start": start, "end": end}
        statement = _RANGE_SUMMARY
    rows = await driver_fetch(session, statement.sql, *statement.args(params))
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
