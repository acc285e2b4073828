"""Attendance imports (`python -m bench.imports`, and part of `make bench`): prints JSON.

A generated Aeries-style attendance file (one row per student and day, period codes) of
10,000 and of 100,000 rows is imported end to end: stored as startImport stores it, queued,
processed by a real worker process (`schoolgraph worker`), to SUCCEEDED. Figures: seconds
and rows per second from the enqueue to the job's end, the worker's peak RSS after each
(flat means the same for both), and beside them, in the same run, `COPY` of the same file
into a staging table of text columns (the floor: Postgres reading the bytes, no rules).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select

from app.imports import service
from app.imports.kinds import ImportKind
from app.imports.models import FINISHED, ImportJob
from app.orgs.models import Role
from app.queue import JobQueue
from bench.demo import Demo, demo_school
from bench.fanout import rss_mib

SIZES = [int(n) for n in os.environ.get("IMPORT_ROWS", "10000,100000").split(",")]
STUDENTS = 1000  # a school's roll; days = rows / STUDENTS (so every batch has one shape)
CODES = ("", "", "", "", "", "", "A", "T", "E", "")


def attendance_file(rows: int, prefix: str) -> bytes:
    today = datetime.now(UTC).date()
    students, days = min(rows, STUDENTS), max(1, rows // STUDENTS)
    lines = ["Student ID,Student Name,Date,All Day,P1,P2,P3,P4,P5,P6"]
    for d in range(days):
        day = (today - timedelta(days=d + 1)).isoformat()
        for s in range(students):
            all_day = "A" if (s + d) % 23 == 0 else ""
            periods = ",".join(CODES[(s * 7 + d * 3 + p) % len(CODES)] for p in range(6))
            lines.append(f"{prefix}{s:06d},Pupil {s},{day},{all_day},{periods}")
    return ("\n".join(lines) + "\n").encode()


async def _chunks(data: bytes) -> Any:
    for start in range(0, len(data), service.CHUNK_BYTES):
        yield data[start : start + service.CHUNK_BYTES]


async def _copy_seconds(demo: Demo, data: bytes) -> float:
    """COPY of the same bytes into a staging table of text columns, from the same machine."""
    conn = await asyncpg.connect(demo.dsn)
    try:
        table = "bench_copy_" + uuid.uuid4().hex[:8]
        await conn.execute(
            f"CREATE TABLE {table} (student_id text, name text, day text, all_day text, "
            "p1 text, p2 text, p3 text, p4 text, p5 text, p6 text)"
        )
        path = Path(f"/tmp/{table}.csv")
        await asyncio.to_thread(path.write_bytes, data)
        start = time.perf_counter()
        await conn.copy_to_table(table, source=str(path), format="csv", header=True)
        seconds = time.perf_counter() - start
        await asyncio.to_thread(path.unlink)
        await conn.execute(f"DROP TABLE {table}")
        return seconds
    finally:
        await conn.close()


async def _import(demo: Demo, queue: JobQueue, worker_pid: int, rows: int) -> dict[str, Any]:
    data = attendance_file(rows, prefix=f"B{rows}-")
    async with demo.db.transaction(demo.org.id) as session:
        actor = demo_principal(demo)
        job = await service.create(
            session,
            actor=actor,
            kind=ImportKind.ATTENDANCE,
            uploads=[service.Upload("bench.csv", _chunks(data))],
            max_file_bytes=len(data) + 1,
        )
    start = time.perf_counter()
    await queue.enqueue("run_import", str(job.id), job_id=service.job_key(job.id, 0))
    peak = rss_mib(worker_pid)["now"]
    while True:
        async with demo.db.transaction(demo.org.id) as session:
            current = (
                await session.execute(select(ImportJob).where(ImportJob.id == job.id))
            ).scalar_one()
        peak = max(peak, rss_mib(worker_pid)["now"])
        if current.status in FINISHED:
            break
        await asyncio.sleep(0.1)
    seconds = time.perf_counter() - start
    copy = await _copy_seconds(demo, data)
    return {
        "rows": rows,
        "bytes": len(data),
        "status": current.status.value,
        "inserted": current.inserted,
        "failed": current.failed,
        "created_students": current.created_students,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1),
        "worker_rss_peak_mib": peak,
        "copy_seconds": round(copy, 3),
        "import_over_copy": round(seconds / copy, 1),
    }


def demo_principal(demo: Demo) -> Any:
    from app.auth.principal import Principal

    return Principal(sub="bench", role=Role.ADMIN, org_id=demo.org.id, org_slug=demo.org.slug)


async def run(demo: Demo) -> dict[str, Any]:
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        env=demo.env(LOG_LEVEL="WARNING"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    queue = JobQueue(demo.services.redis_url)
    await queue.start()
    try:
        await asyncio.sleep(3)  # the worker is up (its start-up sweeps done)
        results = [await _import(demo, queue, worker.pid, rows) for rows in SIZES]
    finally:
        await queue.close()
        worker.terminate()
        await worker.wait()
    return {"attendance": results}


async def main() -> None:
    async with demo_school() as demo:
        figures = await run(demo)
    print(json.dumps({"imports": figures}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
