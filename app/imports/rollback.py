"""rollbackImport: undo what one import changed, in one transaction, through the same rules.

- Rows it updated get back the values it replaced (the columns an import writes, from the
  `before` it kept; Postgres turns the JSON back into the columns' types).
- Attendance days and diagnostics it inserted are deleted.
- Incidents it logged are voided through the incident journey (reason: the rollback), so
  later strikes, house points and risk are put right as for any void; incidents are never
  deleted.
- Students it created are deleted when nothing but this import's own rows referred to them;
  any that something else now refers to (an incident logged since, say) are kept, and
  counted.
Then the risk of every student it touched is recomputed once, and the job is ROLLED_BACK.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.models import Assessment
from app.attendance import service as attendance
from app.attendance.models import AttendanceDay
from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.events import service as events
from app.events.service import Topic
from app.imports import service
from app.imports.models import ImportChange, ImportJob, ImportStatus
from app.incidents import flows as incident_flows
from app.incidents.models import Incident
from app.interventions.models import Intervention
from app.risk import service as risk
from app.students.models import Student

# The columns each import kind writes: what an update's rollback puts back.
_RESTORED = {
    "students": (
        Student,
        ("name", "class_code", "year_group", "campus", "support_level", "support_notes"),
    ),
    "attendance_days": (AttendanceDay, attendance.RECORDED_COLUMNS),
    "assessments": (
        Assessment,
        (
            "academic_year",
            "score",
            "max_score",
            "scale_score",
            "placement",
            "relative_placement",
            "grade_levels_relative",
            "percentile",
            "lexile",
            "quantile",
            "typical_growth",
            "domain_scores",
            "source",
        ),
    ),
}
_DELETED: dict[str, type[AttendanceDay] | type[Assessment]] = {
    "attendance_days": AttendanceDay,
    "assessments": Assessment,
}


@dataclass(frozen=True)
class RolledBack:
    job: ImportJob
    restored: int
    deleted: int
    voided: int
    students_kept: int


async def rollback(session: AsyncSession, *, actor: Principal, job_id: uuid.UUID) -> RolledBack:
    job = (
        await session.execute(
            select(ImportJob)
            .where(ImportJob.org_id == actor.org_id, ImportJob.id == job_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if job is None:
        raise ServiceError.single("id", "no such import", ErrorCode.NOT_FOUND)
    if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.PARTIAL, ImportStatus.FAILED):
        raise ServiceError.single(
            "id",
            f"an import that is {job.status.value} cannot be rolled back "
            "(only one that has ended: SUCCEEDED, PARTIAL, or FAILED part-way)",
            ErrorCode.CONFLICT,
        )
    if job.dry_run:
        raise ServiceError.single("id", "a dry run wrote nothing to roll back", ErrorCode.CONFLICT)
    before = audit.snapshot(job)
    changes = list(
        (
            await session.execute(
                select(ImportChange)
                .where(ImportChange.job_id == job.id)
                .order_by(ImportChange.id.desc())
            )
        ).scalars()
    )
    restored = deleted = voided = 0
    for entity, (model, columns) in _RESTORED.items():
        updated = [c for c in changes if c.entity == entity and c.before is not None]
        if updated:
            restored += await _restore(session, job, model, columns)
    for entity, model in _DELETED.items():
        ids = [c.entity_id for c in changes if c.entity == entity and c.before is None]
        if ids:
            result = await session.execute(
                delete(model).where(model.org_id == actor.org_id, model.id.in_(ids))
            )
            deleted += result.rowcount or 0  # type: ignore[attr-defined]
    logged = [c.entity_id for c in changes if c.entity == "incidents"]
    still_standing = set(
        (
            await session.execute(
                select(Incident.id).where(
                    Incident.org_id == actor.org_id,
                    Incident.id.in_(logged),
                    Incident.voided_at.is_(None),
                )
            )
        ).scalars()
    )
    for incident_id in logged:
        if incident_id in still_standing:  # one voided since by a teacher stays as it is
            await incident_flows.void_incident(
                session, actor=actor, incident_id=incident_id, reason=f"import {job.id} rolled back"
            )
            voided += 1
    if logged:
        # Their rows' ids are free again: importing the file anew logs them anew.
        await session.execute(
            update(Incident)
            .where(Incident.org_id == actor.org_id, Incident.id.in_(logged))
            .values(client_id=None, client_fingerprint=None)
        )
    # Every student whose record the import changed hears of it, before any of them goes.
    touched = {c.student_id for c in changes if c.student_id is not None}
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.STUDENT_CHANGED,
        students={
            sid: {"change": "import.rollback", "importJobId": str(job.id)} for sid in touched
        },
    )
    created = [c.entity_id for c in changes if c.entity == "students" and c.before is None]
    kept = 0
    if created:
        gone = await session.execute(
            delete(Student)
            .where(
                Student.org_id == actor.org_id,
                Student.id.in_(created),
                *(
                    ~exists().where(model.student_id == Student.id)
                    for model in (Incident, AttendanceDay, Assessment, Intervention)
                ),
            )
            .returning(Student.id)
        )
        removed = set(gone.scalars())
        kept = len(created) - len(removed)
        deleted += len(removed)
    else:
        removed = set()
    await risk.recompute(
        session, actor=actor, student_ids=touched - removed, trigger="import.rollback"
    )
    job.status = ImportStatus.ROLLED_BACK
    await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id)
        .values(status=ImportStatus.ROLLED_BACK, rolled_back_at=text("now()"))
    )
    await session.refresh(job)
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.IMPORT_PROGRESS,
        import_job_id=job.id,
        payload=service.progress(job),
    )
    await audit.record(session, actor=actor, action="import.rollback", entity=job, before=before)
    return RolledBack(job, restored, deleted, voided, kept)


async def _restore(
    session: AsyncSession, job: ImportJob, model: type[Any], columns: tuple[str, ...]
) -> int:
    """Every row of `model` the job updated gets back the values it replaced: the oldest
    `before` of each row (a row the job changed twice returns to what it had first). The
    JSON is read back into the columns' own types by Postgres (jsonb_to_record)."""
    dialect = session.get_bind().dialect
    table = model.__table__
    typed = ", ".join(f"{c} {table.c[c].type.compile(dialect=dialect)}" for c in columns)
    names = ", ".join(columns)
    values = ", ".join(f"b.{c}" for c in columns)
    statement = text(
        f"UPDATE {table.name} AS t SET ({names}) = ({values}), updated_at = now() "
        "FROM (SELECT DISTINCT ON (entity_id) entity_id, before FROM import_changes "
        "WHERE job_id = :job AND entity = :entity AND before IS NOT NULL "
        "ORDER BY entity_id, id) AS c, "
        f"LATERAL jsonb_to_record(c.before) AS b({typed}) "
        "WHERE t.id = c.entity_id AND t.org_id = :org"
    )
    result = await session.execute(
        statement, {"job": job.id, "entity": table.name, "org": job.org_id}
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
