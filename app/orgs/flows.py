"""Org policy across domains: new thresholds change every student's risk."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.orgs import service
from app.orgs.policy import OrgPolicy
from app.risk import service as risk
from app.students.models import Student


async def update_policy(
    session: AsyncSession,
    *,
    actor: Principal,
    strikes: dict[str, Any] | None = None,
    risk_thresholds: dict[str, Any] | None = None,
    house_points: dict[str, Any] | None = None,
    attendance: dict[str, Any] | None = None,
    retention: dict[str, Any] | None = None,
    timezone: str | None = None,
) -> OrgPolicy:
    """Risk is recomputed when its thresholds change; the attendance calendar and the time
    zone only decide which days may be recorded from now on."""
    policy = await service.update_policy(
        session,
        actor=actor,
        strikes=strikes,
        risk=risk_thresholds,
        house_points=house_points,
        attendance=attendance,
        retention=retention,
        timezone=timezone,
    )
    if risk_thresholds:
        ids = (
            await session.execute(select(Student.id).where(Student.org_id == actor.org_id))
        ).scalars()
        await risk.recompute(
            session, actor=actor, student_ids=list(ids), trigger="policy", policy=policy
        )
    return policy
