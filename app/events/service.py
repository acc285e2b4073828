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

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import decode_cursor, encode_cursor
from app.db import Database, DriverSql, driver_fetch
from app.events.models import Event
from app.integrations.outbox import OUTBOX_CTE, OUTBOX_TOPICS
from app.orgs.models import Org


class Topic(enum.StrEnum):
    INCIDENT_LOGGED = "incident.logged"
    INCIDENT_UPDATED = "incident.updated"  # void, correct, restrike, follow-up flags
    ATTENDANCE_RECORDED = "attendance.recorded"
    ASSESSMENT_RECORDED = "assessment.recorded"
    RISK_CHANGED = "risk.changed"
    STUDENT_CHANGED = "student.changed"
    INTERVENTION_CHANGED = "intervention.changed"
    IEP_CHANGED = "iep.changed"  # an IEP goal created or changed, or probes recorded
    POLICY_CHANGED = "org.policy_changed"
    FILE_PROGRESS = "file.progress"  # a generated file's job: done of total, then its status
    IMPORT_PROGRESS = "import.progress"  # an import job's counts, after each batch and at the end


# One event per student, its scope keys (class, year group) read from the student's row in
# the same statement: no extra round trip, and the scope is the row's as of this change.
_RETURNING = " RETURNING txid, id, year_group, class_code, student_id, import_job_id"
_INSERT_PER_STUDENT = (
    "INSERT INTO events (org_id, topic, student_id, year_group, class_code, import_job_id,"
    " payload) SELECT s.org_id, :topic, s.id, s.year_group, s.class_code,"
    " CAST(:import_job_id AS uuid), CAST(p.payload AS jsonb)"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:payloads AS text[])) AS p(id, payload)"
    " JOIN students AS s ON s.id = p.id AND s.org_id = :org_id"
)
_PER_STUDENT = DriverSql.of(_INSERT_PER_STUDENT + _RETURNING)
# The events of a change that can push webhooks (OUTBOX_TOPICS), and in the same statement
# the outbox rows they make for the org's endpoints (app.integrations.outbox): their ids come
# back with each event row, for the deliveries' jobs after commit. Other topics (attendance,
# a roster's student.changed) skip the outbox entirely.
_PER_STUDENT_WITH_OUTBOX = DriverSql.of(
    "WITH ev AS ("
    + _INSERT_PER_STUDENT
    + _RETURNING
    + ", org_id, topic, payload), "
    + OUTBOX_CTE.strip()
    + " SELECT txid, id, year_group, class_code, student_id, import_job_id,"
    " (SELECT array_agg(id) FROM outbox) AS deliveries FROM ev"
)
_SCHOOL_WIDE = DriverSql.of(
    "INSERT INTO events (org_id, topic, import_job_id, payload)"
    " VALUES (:org_id, :topic, CAST(:import_job_id AS uuid), CAST(:payload AS jsonb))" + _RETURNING
)

# Where a transaction's written events wait for its commit (session.info): the hints the
# live subscriptions get are published after it (app.events.live.Publisher).
WRITTEN = "schoolgraph.events_written"
# The webhook deliveries it wrote (app.integrations.outbox), queued after its commit.
DELIVERIES = "schoolgraph.deliveries_written"


@dataclass(frozen=True, order=True)
class Position:
    """Where an event sits in the log's order: (writing transaction, id)."""

    txid: int
    id: int


@dataclass(frozen=True)
class Written:
    """An event this transaction wrote: what the broadcast after commit needs of it."""

    org_id: uuid.UUID
    topic: str
    position: Position
    year_group: int | None
    class_code: str | None
    student_id: uuid.UUID | None
    import_job_id: uuid.UUID | None = None


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
    or names: what a subscriber may see is decided when it is delivered. The events are
    broadcast once the transaction commits (see WRITTEN)."""
    if students is not None and not students:
        return
    values: dict[str, Any] = {
        "org_id": org_id,
        "topic": topic.value,
        "import_job_id": import_job_id,
    }
    # Through the driver: every change writes its events, the incident journey on every tap.
    if students is None:
        values["payload"] = _json(payload or {})
        statement = _SCHOOL_WIDE
    else:
        ids = sorted(students)
        statement = _PER_STUDENT_WITH_OUTBOX if topic.value in OUTBOX_TOPICS else _PER_STUDENT
        values.update(ids=ids, payloads=[_json(students[s]) for s in ids])
    rows = await driver_fetch(session, statement.sql, *statement.args(values))
    written: list[Written] = session.info.setdefault(WRITTEN, [])
    for txid, event_id, year, code, sid, job, *outbox in rows:
        written.append(Written(org_id, topic.value, Position(txid, event_id), year, code, sid, job))
        if outbox and outbox[0]:
            # The same ids on every row of the statement: taken once.
            queued: set[uuid.UUID] = session.info.setdefault(DELIVERIES, set())
            queued.update(outbox[0])


@dataclass(frozen=True)
class EventScope:
    """Which events a reader follows: every key given must match, and events of the whole
    school (no scope keys: a policy change) reach every scope. Empty: the whole school.
    An import's events (its job's key, no student) reach the school and that import's
    scope only."""

    year_group: int | None = None
    class_code: str | None = None
    student_id: uuid.UUID | None = None
    import_job_id: uuid.UUID | None = None


@dataclass(frozen=True)
class EventRow:
    """An event as readers get it: plain values, no ORM instance."""

    id: int
    txid: int
    topic: str
    year_group: int | None
    class_code: str | None
    student_id: uuid.UUID | None
    import_job_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.txid, self.id)

    @property
    def cursor(self) -> str:
        """The event's id as clients see it, and pass back as `since`."""
        return encode_since(self.txid, self.id)


@dataclass(frozen=True)
class ReplayPage:
    events: list[EventRow]
    cursor: str | None  # `since` of the last event handed out (None: none)


@dataclass(frozen=True)
class Batch:
    events: list[EventRow]
    horizon: int  # every transaction with a smaller id had ended when this was read


def scope_sql(year_group: str, class_code: str, student_id: str, import_job_id: str) -> str:
    """The scope rule (EventScope) in SQL over events `e`, given the SQL expressions of the
    scope's keys (typed parameters; NULL: not asked for). The one copy of the rule: the
    log's reads and the dashboard's "latest event of the scope" both use it."""
    return (
        "((e.student_id IS NULL AND e.class_code IS NULL AND e.year_group IS NULL"
        " AND e.import_job_id IS NULL)"
        f" OR (({year_group} IS NULL OR e.year_group = {year_group})"
        f" AND ({class_code} IS NULL OR e.class_code = {class_code})"
        f" AND ({student_id} IS NULL OR e.student_id = {student_id})"
        f" AND ({import_job_id} IS NULL OR e.import_job_id = {import_job_id})))"
    )


# One statement: the horizon (transactions older than every one still running have all
# ended: the snapshot's xmin), whether the log still holds the reader's position, and the
# events after it within the horizon, the scope and the topics. Keyed by the
# (org_id, txid, id) index; the scope and topic filters are NULL when not asked for.
_READ_AFTER = """
SELECT h.horizon, h.held, e.id, e.txid, e.topic, e.year_group, e.class_code, e.student_id,
       e.import_job_id, e.payload::text, e.created_at
FROM (SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS horizon,
             (NOT $4::boolean OR EXISTS (SELECT 1 FROM events AS x
                WHERE x.org_id = $1 AND x.txid = $2 AND x.id = $3)) AS held) AS h
LEFT JOIN LATERAL (
    SELECT * FROM events AS e
    WHERE h.held AND e.org_id = $1 AND e.txid < h.horizon
      AND (e.txid, e.id) > ($2::bigint, $3::bigint)
      AND ($6::text[] IS NULL OR e.topic = ANY($6::text[]))
      AND {scope}
    ORDER BY e.txid, e.id
    LIMIT $5
) AS e ON true
ORDER BY e.txid, e.id""".format(
    scope=scope_sql("$7::smallint", "$8::text", "$9::uuid", "$10::uuid")
)

_START = Position(-1, -1)  # before every event


class PositionGone(Exception):
    """The log no longer holds the position a reader gave (purged, or never written)."""


async def read_after(
    db: Database,
    *,
    org_id: uuid.UUID,
    after: Position | None,
    limit: int,
    scope: EventScope = EventScope(),
    topics: Sequence[str] | None = None,
    held: bool = False,
) -> Batch:
    """Up to `limit` events after `after` (from the start without it), in log order, that no
    running transaction can still precede. With `held`, `after` must be an event the log
    still holds (else PositionGone). One read-only statement on the read pool."""
    position = after or _START
    (rows,) = await db.read(
        org_id,
        [
            (
                _READ_AFTER,
                (
                    org_id,
                    position.txid,
                    position.id,
                    held and after is not None,
                    limit,
                    list(topics) if topics is not None else None,
                    scope.year_group,
                    scope.class_code,
                    scope.student_id,
                    scope.import_job_id,
                ),
            )
        ],
    )
    first = rows[0]
    if not first["held"]:
        raise PositionGone
    found = [
        EventRow(
            id=r["id"],
            txid=r["txid"],
            topic=r["topic"],
            year_group=r["year_group"],
            class_code=r["class_code"],
            student_id=r["student_id"],
            import_job_id=r["import_job_id"],
            payload=json.loads(r["payload"]),
            created_at=r["created_at"],
        )
        for r in rows
        if r["id"] is not None
    ]
    return Batch(found, int(first["horizon"]))


def head(batch: Batch) -> Position:
    """The position just before the first event a transaction still running (or yet to
    start) can write: a reader starting "from now" starts after it."""
    return Position(batch.horizon - 1, 2**63 - 1)


def encode_since(txid: int, event_id: int) -> str:
    return encode_cursor([txid, event_id])


def _expired(message: str) -> ServiceError:
    return ServiceError.single("since", message, ErrorCode.RESUME_EXPIRED)


_NOT_OURS = "since is not an event of this log: refetch, then follow from now"


def decode_since(since: str) -> Position:
    """A client's `since` as a log position (RESUME_EXPIRED when it is not one of ours)."""
    try:
        txid, event_id = decode_cursor(since, 2, "since")
    except ServiceError:
        raise _expired(_NOT_OURS) from None
    if not (isinstance(txid, int) and isinstance(event_id, int)):
        raise _expired(_NOT_OURS)
    return Position(txid, event_id)


async def replay(
    db: Database,
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
    after = decode_since(since) if since is not None else None
    try:
        batch = await read_after(
            db, org_id=org_id, after=after, limit=limit, scope=scope, topics=topics, held=True
        )
    except PositionGone:
        raise _expired(
            "the event log no longer holds this since (older than the retention): "
            "refetch, then follow from now"
        ) from None
    rows = batch.events
    return ReplayPage(rows, rows[-1].cursor if rows else None)


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
