"""Interventions (MTSS supports): tier, type, status, owner, notes, dates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts
from app.core.errors import ErrorCode, ServiceError, Validator
from app.events import service as events
from app.events.service import Topic
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


_TEXTS = (("type", contracts.Label), ("owner", contracts.Person), ("notes", contracts.Note))


def _clean(changes: InterventionChanges, creating: bool) -> dict[str, Any]:
    """The columns to write: what is given, every text as Validator.text returns it (NFC,
    trimmed; blank clears it, except the type, which is always required)."""
    v = Validator()
    low, high = contracts.Tier.bounds
    v.int_range("tier", changes.tier, int(low), int(high))
    if creating and changes.tier is None:
        v.add("tier", "tier is required", ErrorCode.REQUIRED)
    values: dict[str, Any] = {
        name: getattr(changes, name)
        for name in ("tier", "status", "start_date", "end_date")
        if getattr(changes, name) is not None
    }
    for name, contract in _TEXTS:
        value = getattr(changes, name)
        required = name == "type" and (creating or value is not None)
        if value is not None or required:
            values[name] = v.text(name, value, max_length=contract.length, required=required)
    if (
        changes.start_date is not None
        and changes.end_date is not None
        and changes.end_date < changes.start_date
    ):
        v.add("endDate", "endDate is before startDate", ErrorCode.INVALID)
    v.raise_if_any()
    return values


def _apply(row: Intervention, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    if row.end_date is not None and row.end_date < row.start_date:
        raise ServiceError.single("endDate", "endDate is before startDate", ErrorCode.INVALID)


async def create(
    session: AsyncSession, *, actor: Principal, student_id: uuid.UUID, changes: InterventionChanges
) -> Intervention:
    values = _clean(changes, creating=True)
    await students.require(session, org_id=actor.org_id, student_id=student_id)
    row = Intervention(
        org_id=actor.org_id,
        student_id=student_id,
        status=changes.status or InterventionStatus.PLANNED,
        start_date=changes.start_date or date.today(),
        owner=actor.sub,
    )
    _apply(row, values)
    session.add(row)
    await audit.record(session, actor=actor, action="intervention.create", entity=row, before=None)
    await _changed(session, row, "create")
    return row


async def update(
    session: AsyncSession,
    *,
    actor: Principal,
    intervention_id: uuid.UUID,
    changes: InterventionChanges,
) -> Intervention:
    values = _clean(changes, creating=False)
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
    _apply(row, values)
    await audit.record(
        session, actor=actor, action="intervention.update", entity=row, before=before
    )
    await _changed(session, row, "update")
    return row


async def _changed(session: AsyncSession, row: Intervention, change: str) -> None:
    await events.record(
        session,
        org_id=row.org_id,
        topic=Topic.INTERVENTION_CHANGED,
        students={
            row.student_id: {
                "interventionId": str(row.id),
                "status": row.status.value,
                "change": change,
            }
        },
    )


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
