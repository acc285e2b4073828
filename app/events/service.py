"""The event log: one row per change a dashboard shows, written in the change's own
transaction through `record` (the live subscriptions replay from this table; the broadcasts
after commit are only hints), read back without gaps by `replay`. Rows are purged after
EVENT_RETENTION_DAYS (`purge`, a cron job on the worker).

Event ids are allocated at insert, not at commit: a transaction still running may hold a
smaller id than one already committed. `replay` therefore orders events by (transaction id,
id) and hands out only events of transactions older than every one still running (the
snapshot's xmin), so nothing can later appear before a cursor it has given out; its cursor
(`since`) is that pair, opaque to clients."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import decode_cursor, encode_cursor
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


@dataclass(frozen=True)
class EventScope:
    """Which events a reader follows: every key given must match, and events of the whole
    school (no scope keys: a policy change) reach every scope. Empty: the whole school."""

    year_group: int | None = None
    class_code: str | None = None
    student_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ReplayPage:
    events: list[Event]
    cursor: str | None  # `since` of the last event handed out (None: none)


# Transactions older than every one still running have all ended (Postgres' snapshot xmin).
_HORIZON = text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


def encode_since(txid: int, event_id: int) -> str:
    return encode_cursor([txid, event_id])


def _expired(message: str) -> ServiceError:
    return ServiceError.single("since", message, ErrorCode.RESUME_EXPIRED)


_NOT_OURS = "since is not an event of this log: refetch, then follow from now"


def _decode_since(since: str) -> tuple[int, int]:
    try:
        txid, event_id = decode_cursor(since, 2, "since")
    except ServiceError:
        raise _expired(_NOT_OURS) from None
    if not (isinstance(txid, int) and isinstance(event_id, int)):
        raise _expired(_NOT_OURS)
    return txid, event_id


async def replay(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    since: str | None,
    limit: int,
    scope: EventScope = EventScope(),
    topics: Sequence[str] | None = None,
) -> ReplayPage:
    """Up to `limit` events after `since` (from the start of the log without it), in order,
    within `scope` and `topics`. A `since` whose event the log no longer holds (purged after
    EVENT_RETENTION_DAYS, or never written) is RESUME_EXPIRED: what came between is gone."""
    stmt = select(Event).where(Event.org_id == org_id, Event.txid < _HORIZON)
    if since is not None:
        txid, event_id = _decode_since(since)
        held = await session.scalar(
            select(Event.id).where(Event.org_id == org_id, Event.txid == txid, Event.id == event_id)
        )
        if held is None:
            raise _expired(
                "the event log no longer holds this since (older than the retention): "
                "refetch, then follow from now"
            )
        stmt = stmt.where(tuple_(Event.txid, Event.id) > tuple_(txid, event_id))
    school_wide = and_(
        Event.student_id.is_(None), Event.class_code.is_(None), Event.year_group.is_(None)
    )
    keys = [
        (Event.year_group, scope.year_group),
        (Event.class_code, scope.class_code),
        (Event.student_id, scope.student_id),
    ]
    given = [column == value for column, value in keys if value is not None]
    if given:
        stmt = stmt.where(or_(and_(*given), school_wide))
    if topics is not None:
        stmt = stmt.where(Event.topic.in_(list(topics)))
    rows = list((await session.execute(stmt.order_by(Event.txid, Event.id).limit(limit))).scalars())
    cursor = encode_since(rows[-1].txid, rows[-1].id) if rows else None
    return ReplayPage(rows, cursor)


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
