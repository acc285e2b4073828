"""`schoolgraph import KIND FILE... --org SLUG [--wait] [--dry-run]`: the same import as
startImport, from files on disk, queued for the worker; with --wait, a progress display
(rich) until it ends, then the summary and the first errors. Exits 1 when the job FAILED."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from app.auth.principal import system_principal
from app.config import Settings
from app.core.errors import ServiceError
from app.db import Database
from app.imports import flows, service
from app.imports.kinds import ImportKind
from app.imports.models import FINISHED, ImportJob, ImportRowError, ImportStatus
from app.orgs import service as orgs
from app.queue import JobQueue

KINDS = {kind.value.lower(): kind for kind in ImportKind}
SHOWN_ERRORS = 20
POLL_SECONDS = 0.5


async def _read(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while piece := await asyncio.to_thread(file.read, service.CHUNK_BYTES):
            yield piece


async def run(
    db: Database,
    redis_url: str,
    settings: Settings,
    *,
    org_slug: str,
    kind: str,
    files: Sequence[Path],
    wait: bool,
    dry_run: bool,
    console: Console,
) -> int:
    async with db.admin_transaction() as session:
        org = await orgs.get_by_slug(session, slug=org_slug)
    if org is None:
        console.print(f"[red]error:[/] no organisation {org_slug!r}")
        return 1
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        console.print(f"[red]error:[/] no such file: {', '.join(missing)}")
        return 1
    queue = JobQueue(redis_url)
    await queue.start()
    try:
        job = await flows.start(
            db,
            queue,
            actor=system_principal(org.id, org.slug, sub="cli"),
            kind=KINDS[kind],
            uploads=[service.Upload(p.name, _read(p)) for p in files],
            dry_run=dry_run,
            settings=settings,
        )
    except ServiceError as exc:
        for error in exc.errors:
            console.print(f"[red]error:[/] {error.message}")
        return 1
    finally:
        await queue.close()
    console.print(f"Import {job.id} queued ({kind}, {len(files)} file(s)).")
    if not wait:
        return 0
    done = await _follow(db, job.org_id, job.id, console)
    _summary(done, console)
    await _show_errors(db, done, console)
    return 1 if done.status is ImportStatus.FAILED else 0


async def _get(db: Database, org_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob:
    async with db.transaction(org_id) as session:
        job = await service.get(session, org_id=org_id, job_id=job_id)
    assert job is not None
    return job


async def _follow(
    db: Database, org_id: uuid.UUID, job_id: uuid.UUID, console: Console
) -> ImportJob:
    waited = 0.0
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("queued", total=None, counts="")
        while True:
            job = await _get(db, org_id, job_id)
            if job.status in FINISHED:
                return job
            waited += POLL_SECONDS
            if job.status is ImportStatus.QUEUED and waited >= 10:
                description = "queued: is a worker running? (schoolgraph worker)"
            else:
                description = job.status.value.lower()
            progress.update(
                task,
                description=description,
                counts=f"{job.processed:,} rows, {job.failed:,} rejected",
            )
            await asyncio.sleep(POLL_SECONDS)


def _summary(job: ImportJob, console: Console) -> None:
    table = Table(
        title=f"Import {job.id}: {job.status.value}" + (" (dry run)" if job.dry_run else "")
    )
    for name in ("processed", "inserted", "updated", "unchanged", "skipped", "failed"):
        table.add_column(name, justify="right")
    table.add_column("created students", justify="right")
    table.add_row(
        *(
            f"{getattr(job, name):,}"
            for name in ("processed", "inserted", "updated", "unchanged", "skipped", "failed")
        ),
        f"{job.created_students:,}",
    )
    console.print(table)


async def _show_errors(db: Database, job: ImportJob, console: Console) -> None:
    async with db.transaction(job.org_id) as session:
        rows = list(
            (
                await session.execute(
                    select(ImportRowError)
                    .where(ImportRowError.job_id == job.id)
                    .order_by(ImportRowError.id)
                    .limit(SHOWN_ERRORS + 1)
                )
            ).scalars()
        )
    for e in rows[:SHOWN_ERRORS]:
        where = (
            f"{e.file}" + (f" row {e.row}" if e.row else "") + (f", {e.column}" if e.column else "")
        )
        console.print(f"  {where}: {e.message} [dim]({e.code})[/]")
    if len(rows) > SHOWN_ERRORS:
        console.print(
            "  … and more: every error is in the report at "
            "/imports/<job id>/errors.csv (importJob.errorReportUrl)"
        )
