"""A roster batch: students created or updated through the students' flow."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

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
    RosterRecord,
)
from app.students import flows as student_flows
from app.students import service as students


async def roster(
    session: AsyncSession,
    *,
    actor: Principal,
    records: Sequence[RosterRecord],
    seen: Keys,
    header: Header,
) -> Outcome:
    out = Outcome()
    latest = await latest_of(session, records, lambda r: r.external_id, seen, out)
    stored = await students_by_external_id(session, actor.org_id, {r.external_id for r in latest})
    todo: list[tuple[RosterRecord, students.StudentData]] = []
    for record in latest:
        data = students.StudentData(
            external_id=record.external_id,
            name=record.name,
            class_code=record.class_code,
            year_group=record.year_group,
            campus=record.campus,
            support_level=record.support_level,
            support_notes=record.support_notes,
        )
        try:
            values = students.validate(data)
        except ServiceError as exc:
            out.reject(record, exc.errors, header)
            continue
        current = stored.get(values["external_id"])
        if current is not None and all(getattr(current, k) == v for k, v in values.items()):
            out.unchanged += 1
            continue
        todo.append((record, data))
    befores = {
        r.external_id: audit.snapshot(stored[r.external_id])
        for r, _ in todo
        if r.external_id in stored
    }
    results = await student_flows.upsert_students(
        session, actor=actor, items=[data for _, data in todo]
    )
    for (record, _), (student, created) in zip(todo, results, strict=True):
        out.inserted += created
        out.updated += not created
        out.changes.append(
            Change("students", student.id, student.id, befores.get(record.external_id))
        )
    return out
