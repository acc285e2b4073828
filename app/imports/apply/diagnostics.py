"""An i-Ready batch: diagnostics recorded through the assessments flow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import flows as assessment_flows
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentKind
from app.audit import service as audit
from app.auth.principal import Principal
from app.imports.apply.common import (
    Change,
    Header,
    Keys,
    Outcome,
    latest_of,
    students_by_external_id,
    unmapped,
)
from app.imports.formats import (
    IreadyRecord,
)


def assessment_data(record: IreadyRecord, student_id: uuid.UUID) -> assessments.AssessmentData:
    """The diagnostic an i-Ready row records, as the assessments service takes it."""
    return assessments.AssessmentData(
        student_id=student_id,
        kind=AssessmentKind.DIAGNOSTIC,
        subject=record.subject,
        taken_on=record.taken_on,
        academic_year=record.academic_year,
        scale_score=record.scale_score,
        placement=record.placement,
        relative_placement=record.relative_placement,
        percentile=record.percentile,
        lexile=record.lexile,
        quantile=record.quantile,
        typical_growth=record.typical_growth,
        domain_scores=record.domain_scores,
    )


async def diagnostics(
    session: AsyncSession,
    *,
    actor: Principal,
    records: Sequence[IreadyRecord],
    seen: Keys,
    header: Header,
) -> Outcome:
    """Unmapped students are reported, not created (a diagnostic names no one we can add)."""
    out = Outcome()
    latest = await latest_of(
        session, records, lambda r: (r.external_id, r.subject, r.taken_on), seen, out
    )
    stored = await students_by_external_id(session, actor.org_id, {r.external_id for r in latest})
    valid: list[tuple[assessments.AssessmentData, dict[str, Any]]] = []
    for record in latest:
        student = stored.get(record.external_id)
        if student is None:
            unmapped(record, out, header)
            continue
        data = assessment_data(record, student.id)
        values, errors = assessments.clean(data)
        if errors:
            out.reject(record, errors, header)
            continue
        valid.append((data, values))
    existing: dict[tuple[Any, ...], Assessment] = {}
    if valid:
        keys = [(v["student_id"], v["subject"], v["taken_on"]) for _, v in valid]
        rows = await session.execute(
            select(Assessment).where(
                Assessment.org_id == actor.org_id,
                Assessment.kind == AssessmentKind.DIAGNOSTIC,
                Assessment.name.is_(None),
                tuple_(Assessment.student_id, Assessment.subject, Assessment.taken_on).in_(keys),
            )
        )
        existing = {(a.student_id, a.subject, a.taken_on): a for a in rows.scalars()}
    todo: list[tuple[assessments.AssessmentData, dict[str, Any] | None]] = []
    for data, values in valid:
        current = existing.get((values["student_id"], values["subject"], values["taken_on"]))
        if current is not None and all(getattr(current, k) == v for k, v in values.items()):
            out.unchanged += 1
            continue
        todo.append((data, audit.snapshot(current) if current is not None else None))
    if todo:
        saved = await assessment_flows.record_many(
            session, actor=actor, items=[d for d, _ in todo], source="import"
        )
        for row, (_data, before) in zip(saved, todo, strict=True):
            out.inserted += before is None
            out.updated += before is not None
            out.changes.append(Change("assessments", row.id, row.student_id, before))
    return out
