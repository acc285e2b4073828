"""Attendance across domains: recording days changes the students' risk."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import service
from app.attendance.models import AttendanceDay
from app.auth.principal import Principal
from app.risk import service as risk


async def record_days(
    session: AsyncSession,
    *,
    actor: Principal,
    days: Sequence[service.DayInput],
    source: str = "console",
) -> list[AttendanceDay]:
    saved = await service.save_days(session, actor=actor, days=days, source=source)
    await risk.recompute(
        session, actor=actor, student_ids={d.student_id for d in days}, trigger="attendance"
    )
    return saved
