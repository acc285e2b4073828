"""`schoolgraph import`: queued from files on disk; with --wait it follows the job to its
end, prints the summary and the first errors, and exits 1 only when the job failed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select

from app.db import Database
from app.imports import processing
from app.imports.models import ImportJob, ImportStatus
from tests.conftest import JWT_SECRET, Org, Servers
from tests.imports.test_jobs import STALE, roster_csv


async def _cli(servers: Servers, *args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "JWT_SECRET": JWT_SECRET,
        "COLUMNS": "120",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _latest_job(db: Database, org: Org) -> ImportJob | None:
    async with db.transaction(org.id) as session:
        return (
            await session.execute(select(ImportJob).order_by(ImportJob.created_at.desc()).limit(1))
        ).scalar_one_or_none()


async def _run_the_worker_part(db: Database, org: Org) -> None:
    """What `schoolgraph worker` would do, in process: the job the CLI queued, processed."""
    for _ in range(600):
        job = await _latest_job(db, org)
        if job is not None:
            await processing.process(db, job.id, batch_size=100, stale=STALE)
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the CLI queued no job")


async def test_import_wait_follows_the_job_and_prints_its_summary_and_errors(
    servers: Servers, db: Database, org: Org, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(roster_csv(5) + b"S09999,,7A,7,North,9\n")  # row 7: no name, level 9
    process = await _cli(servers, "import", "roster", str(roster), "--org", org.slug, "--wait")
    await _run_the_worker_part(db, org)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, err.decode()  # PARTIAL is not a failure of the job
    assert "queued (roster, 1 file(s))" in text
    assert "PARTIAL" in text and "roster.csv row 7" in text
    job = await _latest_job(db, org)
    assert job is not None and (job.status, job.inserted, job.failed) == (
        ImportStatus.PARTIAL,
        5,
        1,
    )


async def test_import_exits_1_when_the_job_fails_or_the_org_is_unknown(
    servers: Servers, db: Database, org: Org, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    process = await _cli(servers, "import", "attendance", str(empty), "--org", org.slug, "--wait")
    await _run_the_worker_part(db, org)
    out, _err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert "FAILED" in out.decode() and "EMPTY_FILE" in out.decode()

    unknown = await _cli(servers, "import", "roster", str(empty), "--org", "no-such-org")
    out, _err = await asyncio.wait_for(unknown.communicate(), 60)
    assert unknown.returncode == 1 and "no organisation 'no-such-org'" in out.decode()
