"""Students across domains: a new student has an evaluated risk from the moment it exists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.risk import service as risk
from app.students import service
from app.students.models import Student


async def upsert_student(
    session: AsyncSession, *, actor: Principal, data: service.StudentData
) -> tuple[Student, bool]:
    """Create or update a student by external id (service.upsert); a created one gets its
    first risk evaluation (tier 1 with every factor explained) in the same transaction.

    The upsert's own statement says whether it created the row, so of many concurrent
    upserts of one id exactly one evaluates."""
    ((student, created),) = await upsert_students(session, actor=actor, items=[data])
    return student, created


async def upsert_students(
    session: AsyncSession, *, actor: Principal, items: Sequence[service.StudentData]
) -> list[tuple[Student, bool]]:
    """`upsert_student` for many (an import's batch): the students created are evaluated
    together, once, at the end."""
    results = await service.upsert_many(session, actor=actor, items=items)
    created = [student for student, new in results if new]
    if created:
        await risk.recompute(
            session,
            actor=actor,
            student_ids=[s.id for s in created],
            trigger="created",
            loaded=created,
        )
    return results
