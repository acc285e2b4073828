"""Attendance across domains: recording days changes the students' risk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import service
from app.attendance.models import AttendanceDay
from app.auth.principal import Principal
from app.orgs import service as orgs
from app.risk import service as risk


async def record_days(
    session: AsyncSession,
    *,
    actor: Principal,
    days: Sequence[service.DayInput],
    source: str = "console",
    now: datetime | None = None,
) -> list[AttendanceDay]:
    now = now or datetime.now(UTC)
    policy = await orgs.get_policy(session, org_id=actor.org_id)
    saved = await service.save_days(
        session, actor=actor, days=days, source=source, policy=policy, now=now
    )
    await risk.recompute(
        session,
        actor=actor,
        student_ids={d.student_id for d in days},
        trigger="attendance",
        now=now,
        policy=policy,
    )
    return saved
