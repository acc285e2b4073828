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
) -> OrgPolicy:
    policy = await service.update_policy(
        session, actor=actor, strikes=strikes, risk=risk_thresholds, house_points=house_points
    )
    if risk_thresholds:
        ids = (
            await session.execute(select(Student.id).where(Student.org_id == actor.org_id))
        ).scalars()
        await risk.recompute(
            session, actor=actor, student_ids=list(ids), trigger="policy", policy=policy
        )
    return policy
