"""The event log: one row per change a dashboard shows, written in the change's own
transaction through `record` (the live subscriptions replay from this table; the broadcasts
after commit are only hints). Rows are purged after EVENT_RETENTION_DAYS (`purge`, a cron
job on the worker)."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.events.models import Event
from app.orgs.models import Org


class Topic(enum.StrEnum):
    INCIDENT_LOGGED = "incident.logged"
    INCIDENT_UPDATED = "incident.updated"  # void, correct, restrike, follow-up flags
    ATTENDANCE_RECORDED = "attendance.recorded"
    ASSESSMENT_RECORDED = "assessment.recorded"
    RISK_CHANGED = "risk.changed"
    STUDENT_CHANGED = "student.changed"
    INTERVENTION_CHANGED = "intervention.changed"
    POLICY_CHANGED = "org.policy_changed"


# One event per student, its scope keys (class, year group) read from the student's row in
# the same statement: no extra round trip, and the scope is the row's as of this change.
_PER_STUDENT = text(
    "INSERT INTO events (org_id, topic, student_id, year_group, class_code, import_job_id,"
    " payload) SELECT s.org_id, :topic, s.id, s.year_group, s.class_code,"
    " CAST(:import_job_id AS uuid), CAST(p.payload AS jsonb)"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:payloads AS text[])) AS p(id, payload)"
    " JOIN students AS s ON s.id = p.id AND s.org_id = :org_id"
)


def _json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, default=str, separators=(",", ":"))


async def record(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    topic: Topic,
    students: Mapping[uuid.UUID, Mapping[str, Any]] | None = None,
    payload: Mapping[str, Any] | None = None,
    import_job_id: uuid.UUID | None = None,
) -> None:
    """Write the change's events in the caller's transaction: one per student in `students`
    (student id -> its payload; scope keys from the student's row), or, with no students,
    one for the whole school with `payload`. Payloads carry ids and facts, never note text
    or names: what a subscriber may see is decided when it is delivered."""
    if students is None:
        session.add(
            Event(
                org_id=org_id,
                topic=topic.value,
                payload=dict(payload or {}),
                import_job_id=import_job_id,
            )
        )
        await session.flush()
        return
    if not students:
        return
    ids = sorted(students)
    await session.execute(
        _PER_STUDENT,
        {
            "org_id": org_id,
            "topic": topic.value,
            "import_job_id": import_job_id,
            "ids": ids,
            "payloads": [_json(students[sid]) for sid in ids],
        },
    )


async def purge(db: Database, *, retention: timedelta, now: datetime) -> int:
    """Delete events older than `retention`, org by org (RLS binds every role here), in
    that org's transaction; the number deleted."""
    async with db.admin_transaction() as session:
        org_ids = list((await session.execute(select(Org.id))).scalars())
    cutoff = now - retention
    deleted = 0
    for org_id in org_ids:
        async with db.transaction(org_id) as session:
            result = await session.execute(
                delete(Event).where(Event.org_id == org_id, Event.created_at < cutoff)
            )
            deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
