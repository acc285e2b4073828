"""Assessments across domains: a new result changes the student's risk."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import service
from app.assessments.models import Assessment
from app.auth.principal import Principal
from app.risk import service as risk


async def record_many(
    session: AsyncSession,
    *,
    actor: Principal,
    items: list[service.AssessmentData],
    source: str = "console",
    list_name: str | None = "items",
) -> list[Assessment]:
    """Record several assessments, then recompute the students' risk once. Errors name
    `items[i].<field>` (see service.save_many)."""
    rows = await service.save_many(
        session, actor=actor, items=items, source=source, list_name=list_name
    )
    await risk.recompute(
        session, actor=actor, student_ids={d.student_id for d in items}, trigger="assessment"
    )
    return rows


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    data: service.AssessmentData,
    source: str = "console",
) -> Assessment:
    """One assessment sent as a single object: its errors name plain `<field>`."""
    (row,) = await record_many(session, actor=actor, items=[data], source=source, list_name=None)
    return row
