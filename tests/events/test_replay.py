"""Replaying the event log without gaps or duplicates (app.events.service.replay).

Event ids are allocated when a row is inserted, not when its transaction commits, so a
reader that remembers "the last id I saw" can skip an event whose transaction was still
running: it commits later with a smaller id. The replay therefore orders events by
(transaction id, id) and only hands out events of transactions older than every one still
running; its cursor is that pair."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from app.core.errors import ErrorCode, ServiceError
from app.events import service as events
from app.events.service import EventScope, Topic
from tests.conftest import Org, Servers
from tests.factories import make_student


async def _writer(servers: Servers, org: Org) -> asyncpg.Connection:
    """A connection writing events as the app does (role and org, RLS on), by hand, so the
    test decides when each transaction commits."""
    conn = await asyncpg.connect(servers.database_url.replace("+asyncpg", ""))
    return conn


async def _begin(conn: asyncpg.Connection, org: Org) -> None:
    await conn.execute("BEGIN")
    await conn.execute(
        "SELECT set_config('role', 'schoolgraph_app', true), set_config('app.org_id', $1, true)",
        str(org.id),
    )
    await conn.execute("SELECT pg_current_xact_id()")  # the transaction id, assigned now


async def _insert(conn: asyncpg.Connection, org: Org, label: str) -> None:
    await conn.execute(
        "INSERT INTO events (org_id, topic, payload) VALUES ($1, 'test.replay', $2::jsonb)",
        org.id,
        f'{{"label": "{label}"}}',
    )


async def _replay(db: Any, org: Org, since: str | None, **kw: Any) -> tuple[list[str], str | None]:
    page = await events.replay(db, org_id=org.id, since=since, limit=100, **kw)
    labels = [e.payload.get("label", e.topic) for e in page.events]
    return labels, page.cursor or since


async def test_an_event_committed_late_with_a_smaller_id_is_not_skipped(
    db: Any, org: Org, servers: Servers
) -> None:
    old, late = await _writer(servers, org), await _writer(servers, org)
    try:
        await _begin(old, org)  # the older transaction id ...
        await _begin(late, org)
        await _insert(late, org, "late")  # ... the smaller event id, committed last
        await _insert(old, org, "old")
        await old.execute("COMMIT")
        seen, cursor = await _replay(db, org, None, topics=["test.replay"])
        assert seen == ["old"]  # "late" is still running: nothing after it is handed out yet
        await late.execute("COMMIT")
        more, cursor = await _replay(db, org, cursor, topics=["test.replay"])
        assert more == ["late"]  # an id-only cursor (after old's id) would have lost it
        again, _ = await _replay(db, org, cursor, topics=["test.replay"])
        assert again == []
    finally:
        await old.close()
        await late.close()


async def test_nothing_after_a_running_transaction_is_handed_out(
    db: Any, org: Org, servers: Servers
) -> None:
    running, later = await _writer(servers, org), await _writer(servers, org)
    try:
        await _begin(running, org)
        await _insert(running, org, "first")
        await _begin(later, org)
        await _insert(later, org, "second")
        await later.execute("COMMIT")
        seen, cursor = await _replay(db, org, None, topics=["test.replay"])
        assert seen == []
        await running.execute("COMMIT")
        seen, cursor = await _replay(db, org, cursor, topics=["test.replay"])
        assert seen == ["first", "second"]
    finally:
        await running.close()
        await later.close()


async def test_replay_keeps_to_its_scope_and_topics(db: Any, org: Org) -> None:
    ann = await make_student(db, org, class_code="R1", year_group=7)
    ben = await make_student(db, org, class_code="R2", year_group=8)
    async with db.transaction(org.id) as session:
        for student, label in ((ann, "ann"), (ben, "ben")):
            await events.record(
                session,
                org_id=org.id,
                topic=Topic.INCIDENT_LOGGED,
                students={student.id: {"label": label}},
            )
        await events.record(session, org_id=org.id, topic=Topic.POLICY_CHANGED)
    logged = [Topic.INCIDENT_LOGGED.value]
    assert (await _replay(db, org, None, topics=logged))[0] == ["ann", "ben"]
    for scope, expected in (
        (EventScope(class_code="R1"), ["ann"]),
        (EventScope(year_group=8), ["ben"]),
        (EventScope(student_id=ben.id), ["ben"]),
        (EventScope(class_code="R1", year_group=8), []),
    ):
        labels, _ = await _replay(db, org, None, topics=logged, scope=scope)
        assert labels == expected, scope
    # The whole school's stream includes school-wide events; a class's does too (a policy
    # change concerns every class).
    everything, _ = await _replay(db, org, None)
    assert everything[-3:] == ["ann", "ben", Topic.POLICY_CHANGED.value]
    class_stream, _ = await _replay(db, org, None, scope=EventScope(class_code="R2"))
    assert class_stream[-2:] == ["ben", Topic.POLICY_CHANGED.value]


async def test_a_cursor_that_is_gone_or_forged_says_resume_expired(db: Any, org: Org) -> None:
    for since in ("nope", events.encode_since(10**12, 10**12), events.encode_since(1, 1)):
        with pytest.raises(ServiceError) as caught:
            await _replay(db, org, since)
        (error,) = caught.value.errors
        assert (error.field, error.code) == ("since", ErrorCode.RESUME_EXPIRED), since


async def test_replay_pages_through_in_order(db: Any, org: Org) -> None:
    student = await make_student(db, org)
    async with db.transaction(org.id) as session:
        for i in range(5):
            await events.record(
                session,
                org_id=org.id,
                topic=Topic.STUDENT_CHANGED,
                students={student.id: {"label": f"e{i}"}},
            )
    cursor, seen = None, []
    while True:
        page = await events.replay(
            db, org_id=org.id, since=cursor, limit=2, scope=EventScope(student_id=student.id)
        )
        if not page.events:
            break
        seen += [e.payload["label"] for e in page.events if "label" in e.payload]
        cursor = page.cursor
    assert seen == [f"e{i}" for i in range(5)]
    assert uuid.UUID(str(student.id))
