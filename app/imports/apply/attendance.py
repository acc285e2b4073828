"""An attendance batch: missing students created, days recorded through the attendance flow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import flows as attendance_flows
from app.attendance import service as attendance
from app.attendance.models import AttendanceDay
from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ServiceError
from app.imports.apply.common import (
    Change,
    Header,
    Keys,
    Outcome,
    latest_of,
    students_by_external_id,
)
from app.imports.formats import (
    AttendanceRecord,
)
from app.orgs import service as orgs
from app.students import flows as student_flows
from app.students import service as students

_DAY_IDENTITY = {"id", "org_id", "source", "created_at", "updated_at"}


def _day_input(record: AttendanceRecord, student_id: uuid.UUID) -> attendance.DayInput:
    return attendance.DayInput(
        student_id=student_id,
        day=record.day,
        scheduled_periods=record.scheduled_periods,
        all_day_code=record.all_day_code,
        period_codes=record.period_codes,
    )


async def attendance_days(
    session: AsyncSession,
    *,
    actor: Principal,
    records: Sequence[AttendanceRecord],
    seen: Keys,
    header: Header,
) -> Outcome:
    out = Outcome()
    latest = await latest_of(session, records, lambda r: (r.external_id, r.day), seen, out)
    policy = await orgs.get_policy(session, org_id=actor.org_id)
    codes = await attendance.code_table(session, org_id=actor.org_id)
    now = datetime.now(UTC)
    # The days' own rules first (no student needed): a rejected row creates no one.
    checked: list[tuple[AttendanceRecord, attendance.DayClassification]] = []
    for record in latest:
        day = _day_input(record, uuid.UUID(int=0))
        errors = attendance.day_errors(record.day, policy=policy, now=now, path="day")
        try:
            result = attendance.classify_day(day, codes)
        except ServiceError as exc:
            errors += exc.errors
        if errors:
            out.reject(record, errors, header)
        else:
            checked.append((record, result))
    stored = await students_by_external_id(
        session, actor.org_id, {r.external_id for r, _ in checked}
    )
    # Students the roster does not know yet are created (and counted) from the file.
    missing: dict[str, str] = {}
    for record, _ in checked:
        if record.external_id not in stored:
            missing.setdefault(record.external_id, record.name or record.external_id)
    if missing:
        created = await student_flows.upsert_students(
            session,
            actor=actor,
            items=[
                students.StudentData(external_id=external_id, name=name)
                for external_id, name in missing.items()
            ],
        )
        for student, new in created:
            stored[student.external_id] = student
            if new:
                out.created_students += 1
                out.changes.append(Change("students", student.id, student.id, None))
    valid: list[tuple[AttendanceRecord, attendance.DayInput, dict[str, Any]]] = []
    for record, result in checked:
        day = _day_input(record, stored[record.external_id].id)
        valid.append((record, day, attendance.stored_values(day, result)))

    existing: dict[tuple[uuid.UUID, Any], AttendanceDay] = {}
    if valid:
        keys = [(d.student_id, d.day) for _, d, _ in valid]
        rows = await session.execute(
            select(AttendanceDay).where(
                AttendanceDay.org_id == actor.org_id,
                tuple_(AttendanceDay.student_id, AttendanceDay.day).in_(keys),
            )
        )
        existing = {(r.student_id, r.day): r for r in rows.scalars()}
    todo: list[tuple[attendance.DayInput, dict[str, Any] | None]] = []
    for _record, day, planned in valid:
        current = existing.get((day.student_id, day.day))
        if current is not None and all(getattr(current, k) == v for k, v in planned.items()):
            out.unchanged += 1
            continue
        todo.append((day, audit.snapshot(current) if current is not None else None))
    if todo:
        saved = await attendance_flows.record_days(
            session, actor=actor, days=[day for day, _ in todo], source="import", now=now
        )
        for row, (_day, before) in zip(saved, todo, strict=True):
            out.inserted += before is None
            out.updated += before is not None
            out.changes.append(Change("attendance_days", row.id, row.student_id, before))
    return out
