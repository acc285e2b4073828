"""Interventions (MTSS supports): tier, type, status, owner, notes, dates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError, Validator
from app.interventions.models import Intervention, InterventionStatus
from app.students import service as students


@dataclass
class InterventionChanges:
    tier: int | None = None
    type: str | None = None
    status: InterventionStatus | None = None
    owner: str | None = None
    notes: str | None = None
    start_date: date | None = None
    end_date: date | None = None


def _validate(changes: InterventionChanges, creating: bool) -> None:
    v = Validator()
    v.int_range("tier", changes.tier, 1, 3)
    v.text("type", changes.type, max_length=100, required=creating)
    v.text("owner", changes.owner, max_length=200)
    v.text("notes", changes.notes, max_length=10_000)
    if creating and changes.tier is None:
        v.add("tier", "tier is required", ErrorCode.REQUIRED)
    if (
        changes.start_date is not None
        and changes.end_date is not None
        and changes.end_date < changes.start_date
    ):
        v.add("endDate", "endDate is before startDate", ErrorCode.INVALID)
    v.raise_if_any()


def _apply(row: Intervention, changes: InterventionChanges) -> None:
    for name in ("tier", "status", "start_date", "end_date"):
        value = getattr(changes, name)
        if value is not None:
            setattr(row, name, value)
    for name in ("type", "owner", "notes"):
        value = getattr(changes, name)
        if value is not None:
            setattr(row, name, value.strip() or None)
    if row.end_date is not None and row.end_date < row.start_date:
        raise ServiceError.single("endDate", "endDate is before startDate", ErrorCode.INVALID)


async def create(
    session: AsyncSession, *, actor: Principal, student_id: uuid.UUID, changes: InterventionChanges
) -> Intervention:
    _validate(changes, creating=True)
    await students.require(session, org_id=actor.org_id, student_id=student_id)
    row = Intervention(
        org_id=actor.org_id,
        student_id=student_id,
        status=changes.status or InterventionStatus.PLANNED,
        start_date=changes.start_date or date.today(),
        owner=actor.sub,
    )
    _apply(row, changes)
    session.add(row)
    await audit.record(session, actor=actor, action="intervention.create", entity=row, before=None)
    return row


async def update(
    session: AsyncSession,
    *,
    actor: Principal,
    intervention_id: uuid.UUID,
    changes: InterventionChanges,
) -> Intervention:
    _validate(changes, creating=False)
    row = (
        await session.execute(
            select(Intervention)
            .where(Intervention.org_id == actor.org_id, Intervention.id == intervention_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise ServiceError.single("id", "no such intervention", ErrorCode.NOT_FOUND)
    before = audit.snapshot(row)
    _apply(row, changes)
    await audit.record(
        session, actor=actor, action="intervention.update", entity=row, before=before
    )
    return row


async def for_students(
    session: AsyncSession, *, org_id: uuid.UUID, student_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Intervention]]:
    ids = list(student_ids)
    out: dict[uuid.UUID, list[Intervention]] = {sid: [] for sid in ids}
    rows = await session.execute(
        select(Intervention)
        .where(Intervention.org_id == org_id, Intervention.student_id.in_(ids))
        .order_by(Intervention.start_date.desc(), Intervention.id)
    )
    for row in rows.scalars():
        out[row.student_id].append(row)
    return out
