"""IEP changes across domains: probes and goal changes move the student's risk
(the IEP_PROGRESS factor reads each goal's off-track streak)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.iep import service
from app.iep.models import IepGoal, IepProbe
from app.risk import service as risk


async def record_probes(
    session: AsyncSession,
    *,
    actor: Principal,
    probes: Sequence[service.ProbeData],
    now: datetime,
) -> list[IepProbe]:
    written = await service.record_probes(session, actor=actor, probes=probes, now=now)
    await risk.recompute(
        session, actor=actor, student_ids={p.student_id for p in written}, trigger="iep_probe"
    )
    return written


async def update_goal(
    session: AsyncSession,
    *,
    actor: Principal,
    goal_id: uuid.UUID,
    changes: service.GoalChanges,
) -> IepGoal:
    """A changed target, due date or status can put a goal on or off track."""
    goal = await service.update_goal(session, actor=actor, goal_id=goal_id, changes=changes)
    await risk.recompute(session, actor=actor, student_ids=[goal.student_id], trigger="iep_goal")
    return goal
