"""The hot paths' hand-written statements on the session's own connection (app.db.driver_*):
the same transaction, errors and ORM objects as the ORM's statements, and a pool that
replaces connections the server has closed without a ping per transaction."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import (
    Database,
    driver_connection,
    driver_execute,
    driver_fetchrow,
    driver_insert,
    driver_savepoint,
    loaded_from_driver,
)
from app.incidents.models import Incident, IncidentKind
from app.students.models import Student
from tests.conftest import counting_statements, make_org
from tests.factories import make_student


async def _house_points(session: AsyncSession, student_id: uuid.UUID) -> int:
    """The student's house points, read through the driver (in the session's transaction)."""
    row = await driver_fetchrow(
        session, "SELECT house_points FROM students WHERE id = $1", student_id
    )
    assert row is not None
    return int(row[0])


async def test_a_connection_the_server_closed_is_replaced_at_checkout(db: Database) -> None:
    org = await make_org(db)
    async with db.transaction(org.id) as session:
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert db.reads is not None
    other = await asyncpg.connect(db.reads.dsn)
    try:
        assert await other.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await other.close()
    await asyncio.sleep(0.3)  # asyncpg sees the socket end on the loop's next turns
    # The next transaction gets a live connection: no error for the first user after a
    # restart, and no ping paid by every transaction for it.
    async with db.transaction(org.id) as session:
        assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid


async def test_driver_statements_run_in_the_sessions_transaction(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    with pytest.raises(RuntimeError):
        async with db.transaction(org.id) as session:
            await driver_execute(
                session, "UPDATE students SET house_points = 41 WHERE id = $1", student.id
            )
            # The ORM sees what the driver wrote: one transaction, one connection.
            points = await session.scalar(
                select(Student.house_points).where(Student.id == student.id)
            )
            assert points == 41
            raise RuntimeError("roll it all back")
    async with db.transaction(org.id) as session:
        assert await _house_points(session, student.id) == 0


async def test_pending_orm_changes_are_flushed_before_a_driver_statement(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    async with db.transaction(org.id) as session:
        loaded = await session.get(Student, student.id)
        assert loaded is not None
        loaded.house_points = 7
        assert await _house_points(session, student.id) == 7


async def test_driver_errors_are_sqlalchemys_and_a_savepoint_keeps_the_transaction(
    db: Database,
) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    values = {
        "org_id": org.id,
        "student_id": student.id,
        "kind": IncidentKind.NEUTRAL,
        "category": "c",
        "occurred_at": student.created_at,
        "client_id": client_id,
    }
    async with db.transaction(org.id) as session:
        first = await driver_insert(session, Incident, values)
        with pytest.raises(IntegrityError):
            async with driver_savepoint(session):
                await driver_insert(session, Incident, {**values, "id": uuid.uuid4()})
        # Rolled back to the savepoint: the transaction goes on, the first row stays.
        row = await driver_fetchrow(
            session, "SELECT count(*) FROM incidents WHERE org_id = $1", org.id
        )
        assert row is not None and row[0] == 1
    assert first.points == 0 and first.source == "console"  # the ORM's column defaults
    assert first.admin_notified is False and first.created_at is not None
    async with db.transaction(org.id) as session:
        with pytest.raises(DBAPIError) as caught:
            await driver_execute(session, "SELECT 1 / 0")
    assert getattr(caught.value.orig, "sqlstate", None) == "22012"
    assert "1 / 0" in str(caught.value)  # the statement, never its parameters


async def test_rows_read_by_the_driver_are_the_sessions_orm_objects(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    select_row = "SELECT * FROM students WHERE id = $1"
    async with db.transaction(org.id) as session:
        held = await session.get(Student, student.id)
        assert held is not None
        await driver_execute(
            session, "UPDATE students SET house_points = 5 WHERE id = $1", student.id
        )
        row = await driver_fetchrow(session, select_row, student.id)
        # The same object, brought up to date, with nothing left to flush.
        assert loaded_from_driver(session, Student, row) is held
        assert held.house_points == 5 and not session.dirty
    async with db.transaction(org.id) as session:
        row = await driver_fetchrow(session, select_row, student.id)
        fresh = loaded_from_driver(session, Student, row)
        assert await session.get(Student, student.id) is fresh
        fresh.house_points = 9  # a change to it is an ORM UPDATE, as for any loaded row
    async with db.transaction(org.id) as session:
        assert (await session.get(Student, student.id)).house_points == 9  # type: ignore[union-attr]


async def test_driver_statements_are_counted_with_the_orms(db: Database) -> None:
    org = await make_org(db)
    with counting_statements(db) as counter:
        async with db.transaction(org.id) as session:
            await driver_connection(session)
            await driver_execute(session, "SELECT 1")
            await session.execute(text("SELECT 2"))
    assert [s for s in counter.data_statements] == ["SELECT 1", "SELECT 2"]


async def test_a_transaction_cancelled_midway_hands_no_one_its_connection(db: Database) -> None:
    """The transaction is begun and ended on the connection itself (Database._explicit): a
    task cancelled inside it must not leave the connection, still in the transaction and
    scoped to its org, for the next checkout."""
    a, b = await make_org(db), await make_org(db)
    student = await make_student(db, a)
    inside = asyncio.Event()

    async def slow() -> None:
        async with db.transaction(a.id) as session:
            await driver_execute(
                session, "UPDATE students SET house_points = 99 WHERE id = $1", student.id
            )
            inside.set()
            await driver_execute(session, "SELECT pg_sleep(5)")

    task = asyncio.create_task(slow())
    await inside.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(6):  # every pooled connection, the cancelled one among them
        async with db.transaction(b.id) as session:
            row = await driver_fetchrow(session, "SELECT current_setting('app.org_id')")
            assert row is not None and row[0] == str(b.id)
    async with db.transaction(a.id) as session:
        assert await _house_points(session, student.id) == 0  # the cancelled UPDATE: gone


async def test_a_driver_statement_outside_a_begun_transaction_is_refused(db: Database) -> None:
    """SQLAlchemy begins lazily: on a session of its own, a driver statement sent first would
    run outside any transaction."""
    async with db.sessionmaker() as session:
        with pytest.raises(RuntimeError, match="transaction"):
            await driver_execute(session, "SELECT 1")


async def test_a_connection_left_inside_a_transaction_is_not_reused(db: Database) -> None:
    """However it happened (a cancel landing during COMMIT or ROLLBACK), a pooled connection
    still inside a transaction is replaced at checkout: otherwise the next transaction's
    BEGIN would only warn, and its COMMIT would commit the abandoned writes."""
    a, b = await make_org(db), await make_org(db)
    student = await make_student(db, a)
    async with db.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(
            f"BEGIN; UPDATE students SET house_points = 99 WHERE id = '{student.id}'"
        )
    # SQLAlchemy did not begin it, so its reset on return leaves it open.
    assert driver.is_in_transaction()
    for _ in range(6):
        async with db.transaction(b.id):
            pass
    async with db.transaction(a.id) as session:
        assert await _house_points(session, student.id) == 0


async def test_after_commit_steps_run_after_the_answer_and_settle_waits_for_them(
    db: Database,
) -> None:
    org = await make_org(db)
    release = asyncio.Event()
    ran: list[object] = []

    async def slow_step(info: dict[object, object]) -> None:
        await release.wait()
        ran.append(info["written"])

    async def failing_step(info: dict[object, object]) -> None:
        raise RuntimeError("a step's failure is its own")

    db.after_commit.extend([failing_step, slow_step])  # `db` is shared: taken off at the end
    try:
        async with db.transaction(org.id) as session:
            session.info["written"] = 1
        assert ran == []  # the transaction's caller did not wait for the steps
        async with db.transaction(org.id):
            pass  # nothing written: nothing to run
        release.set()
        await db.settle()
        assert ran == [1]  # and one step failing did not keep the next from running
    finally:
        release.set()
        await db.settle()
        db.after_commit.remove(failing_step)
        db.after_commit.remove(slow_step)
