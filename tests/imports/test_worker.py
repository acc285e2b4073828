"""A real worker process is killed (SIGKILL) halfway through an import; a new worker picks
the job up again (its start-up sweep finds the stale job) and finishes it from the last
committed batch: the final counts and table contents equal an uninterrupted run's."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.attendance.models import AttendanceDay
from app.db import Database
from app.imports import processing, service
from app.imports.kinds import ImportKind
from app.imports.models import ImportJob, ImportStatus
from app.queue import JobQueue
from app.students.models import Student
from tests.conftest import JWT_SECRET, Org, Servers, make_org
from tests.imports.test_jobs import STALE, start

STUDENTS, DAYS, BATCH = 150, 12, 150


def attendance_file() -> bytes:
    today = datetime.now(UTC).date()
    lines = ["Student ID,Student Name,Date,All Day,P1,P2,P3"]
    for d in range(DAYS):
        day = (today - timedelta(days=d + 1)).isoformat()
        for s in range(STUDENTS):
            code = "A" if (s + d) % 7 == 0 else ""
            late = "T" if (s * d) % 5 == 1 else ""
            lines.append(f"K{s:04d},Pupil {s},{day},{code},{late},,")
    return "\n".join(lines).encode()


@asynccontextmanager
async def worker(servers: Servers) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "JWT_SECRET": JWT_SECRET,
        "IMPORT_BATCH_SIZE": str(BATCH),
        "IMPORT_STALE_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def job_of(db: Database, org: Org, job_id: uuid.UUID) -> ImportJob:
    async with db.transaction(org.id) as session:
        return (await session.execute(select(ImportJob).where(ImportJob.id == job_id))).scalar_one()


async def contents(db: Database, org: Org) -> list[tuple[object, ...]]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(
                Student.external_id,
                Student.name,
                AttendanceDay.day,
                AttendanceDay.all_day_code,
                AttendanceDay.period_codes,
                AttendanceDay.present_periods,
                AttendanceDay.daily_status,
                AttendanceDay.tardy_periods,
            )
            .join(AttendanceDay, AttendanceDay.student_id == Student.id)
            .order_by(Student.external_id, AttendanceDay.day)
        )
        return [tuple(r) for r in rows]


async def test_a_killed_worker_loses_nothing_and_doubles_nothing(
    db: Database, org: Org, servers: Servers
) -> None:
    data = attendance_file()
    total = STUDENTS * DAYS
    job_id = await start(db, org, ImportKind.ATTENDANCE, ("sis.csv", data))
    queue = JobQueue(servers.redis_url)  # queued as startImport queues it
    await queue.start()
    try:
        assert await queue.enqueue("run_import", str(job_id), job_id=service.job_key(job_id, 0))
    finally:
        await queue.close()

    async with worker(servers) as first:
        for _ in range(1200):  # until some batches, not all, are committed
            job = await job_of(db, org, job_id)
            if job.processed >= 2 * BATCH:
                break
            await asyncio.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        await first.wait()
    halfway = await job_of(db, org, job_id)
    assert halfway.status is ImportStatus.RUNNING
    assert 0 < halfway.processed < total, halfway.processed

    async with worker(servers):  # its start-up sweep hands the stale job to it
        for _ in range(3000):
            job = await job_of(db, org, job_id)
            if job.status is not ImportStatus.RUNNING:
                break
            await asyncio.sleep(0.05)
    assert job.status is ImportStatus.SUCCEEDED, job.status
    assert job.attempts >= 2

    # The same file, uninterrupted, in another organisation.
    other = await make_org(db)
    baseline_id = await start(db, other, ImportKind.ATTENDANCE, ("sis.csv", data))
    baseline = await processing.process(db, baseline_id, batch_size=BATCH, stale=STALE)
    assert baseline is not None
    counts = ("processed", "inserted", "updated", "unchanged", "skipped", "failed")
    assert [getattr(job, c) for c in counts] == [getattr(baseline, c) for c in counts]
    assert (job.processed, job.inserted, job.created_students) == (total, total, STUDENTS)
    assert job.created_students == baseline.created_students
    assert await contents(db, org) == await contents(db, other)
