"""Import jobs: created with their files stored (so a restart loses nothing), then processed
by the worker in batches, each committed with the job's progress so that a job whose worker
died resumes after its last committed batch.

The layers (DESIGN.md, Imports): file and headers (app.imports.reading: a file that fails
there ends the job FAILED, writing nothing), types and row-local rules (app.imports.formats),
then the domain's own rules, student mapping and duplicates (app.imports.apply, which calls
the domains' services: one rule, one place). A bad row never stops good rows.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError, Validator
from app.core.pagination import Page, PageRequest, SortKey, apply_keyset, to_page
from app.db import Database
from app.imports.kinds import ImportKind
from app.imports.models import (
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportRowError,
    ImportStatus,
)
from app.metrics import IMPORT_JOBS

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20  # one stored chunk of an uploaded file
NEWEST_FIRST = (SortKey(ImportJob.created_at, descending=True), SortKey(ImportJob.id))
ERROR_ORDER = (SortKey(ImportRowError.id),)


@dataclass(frozen=True)
class Upload:
    name: str
    chunks: AsyncIterable[bytes]


# -- starting ------------------------------------------------------------------------------


async def create(
    session: AsyncSession,
    *,
    actor: Principal,
    kind: ImportKind,
    uploads: Sequence[Upload],
    dry_run: bool = False,
    max_file_bytes: int,
) -> ImportJob:
    """The job, QUEUED, with every file's bytes stored in the caller's transaction: once it
    commits, the import survives any restart. Queue it after the commit (flows.start)."""
    v = Validator()
    if not uploads:
        v.add("files", "give at least one file", ErrorCode.REQUIRED)
    for i, upload in enumerate(uploads):
        v.text(f"files[{i}].name", upload.name, max_length=C.FileName.length, required=True)
    v.raise_if_any()
    job = ImportJob(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        kind=kind,
        status=ImportStatus.QUEUED,
        dry_run=dry_run,
        created_by=actor.sub,
        created_role=actor.role.value,
        attempts=0,
        resume_file=0,
        resume_row=1,
        processed=0,
        inserted=0,
        updated=0,
        unchanged=0,
        skipped=0,
        failed=0,
        created_students=0,
    )
    session.add(job)
    await session.flush()
    for position, upload in enumerate(uploads):
        await _store(session, job, position, upload, max_file_bytes)
    await audit.record(session, actor=actor, action="import.start", entity=job, before=None)
    IMPORT_JOBS.labels(kind.value, ImportStatus.QUEUED.value).inc()
    return job


async def _store(
    session: AsyncSession, job: ImportJob, position: int, upload: Upload, max_bytes: int
) -> None:
    file_id, digest, size, seq = uuid.uuid4(), hashlib.sha256(), 0, 0
    session.add(
        ImportFile(
            id=file_id,
            org_id=job.org_id,
            job_id=job.id,
            position=position,
            name=upload.name,
            size=0,
            sha256="",
            chunks=0,
        )
    )
    await session.flush()
    buffer = bytearray()

    async def put(data: bytes) -> None:
        nonlocal seq
        await session.execute(
            insert(ImportFileChunk),
            [{"org_id": job.org_id, "file_id": file_id, "seq": seq, "data": data}],
        )
        seq += 1

    async for piece in upload.chunks:
        size += len(piece)
        if size > max_bytes:
            raise ServiceError.single(
                f"files[{position}]",
                f"{upload.name} is larger than the {max_bytes:,} bytes an import file may be",
                ErrorCode.OUT_OF_RANGE,
            )
        digest.update(piece)
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            await put(bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
    if buffer or seq == 0:
        await put(bytes(buffer))
    await session.execute(
        update(ImportFile)
        .where(ImportFile.id == file_id)
        .values(size=size, sha256=digest.hexdigest(), chunks=seq)
    )


# -- reading -------------------------------------------------------------------------------


async def get(session: AsyncSession, *, org_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob | None:
    return (
        await session.execute(
            select(ImportJob).where(ImportJob.org_id == org_id, ImportJob.id == job_id)
        )
    ).scalar_one_or_none()


async def list_page(
    session: AsyncSession, *, org_id: uuid.UUID, page: PageRequest
) -> Page[ImportJob]:
    stmt = apply_keyset(select(ImportJob).where(ImportJob.org_id == org_id), NEWEST_FIRST, page)
    return to_page((await session.execute(stmt)).scalars().all(), NEWEST_FIRST, page)


async def errors_page(
    session: AsyncSession, *, org_id: uuid.UUID, job_id: uuid.UUID, page: PageRequest
) -> Page[ImportRowError]:
    base = select(ImportRowError).where(
        ImportRowError.org_id == org_id, ImportRowError.job_id == job_id
    )
    stmt = apply_keyset(base, ERROR_ORDER, page)
    return to_page((await session.execute(stmt)).scalars().all(), ERROR_ORDER, page)


async def files_of(session: AsyncSession, *, org_id: uuid.UUID, job_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        select(ImportFile.name)
        .where(ImportFile.org_id == org_id, ImportFile.job_id == job_id)
        .order_by(ImportFile.position)
    )
    return list(rows.scalars())


async def all_errors(
    session: AsyncSession, *, org_id: uuid.UUID, job_id: uuid.UUID
) -> AsyncIterator[ImportRowError]:
    """Every error of the job, in order (the error report), streamed."""
    stream = await session.stream_scalars(
        select(ImportRowError)
        .where(ImportRowError.org_id == org_id, ImportRowError.job_id == job_id)
        .order_by(ImportRowError.id)
        .execution_options(yield_per=1000)
    )
    async for row in stream:
        yield row


def progress(job: ImportJob) -> dict[str, Any]:
    """What an import's events say of it: its counts and status (no row's content)."""
    return {
        "importJobId": str(job.id),
        "kind": job.kind.value,
        "status": job.status.value,
        "processed": job.processed,
        "inserted": job.inserted,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "failed": job.failed,
        "createdStudents": job.created_students,
    }


# -- the sweep -----------------------------------------------------------------------------


async def due(
    db: Database, *, stale: timedelta, queued_for: timedelta
) -> list[tuple[uuid.UUID, int]]:
    """Jobs to hand to a worker (again): RUNNING ones whose worker went silent for `stale`,
    and QUEUED ones no worker took within `queued_for` (the queue lost them, or Redis was
    down when they were queued). Across every org: (id, attempts) each."""
    async with db.admin_transaction() as session:
        rows = await session.execute(
            select(ImportJob.id, ImportJob.attempts).where(
                (
                    (ImportJob.status == ImportStatus.RUNNING)
                    & (ImportJob.heartbeat_at < func.now() - stale)
                )
                | (
                    (ImportJob.status == ImportStatus.QUEUED)
                    & (ImportJob.created_at < func.now() - queued_for)
                )
            )
        )
        return [(job_id, attempts) for job_id, attempts in rows]


def job_key(job_id: uuid.UUID, attempts: int) -> str:
    """arq's job id for a run of the import: one per attempt, since arq keeps a finished
    job's id (and refuses it) until its result expires."""
    return f"import:{job_id}:{attempts}"


@dataclass(frozen=True)
class Stats:
    jobs: int
    succeeded: int
    partial: int
    failed: int
    rolled_back: int
    running: int
    rows_processed: int
    rows_failed: int
    rows_per_second: float | None  # processed rows over the finished jobs' running time
    median_seconds: float | None

    @property
    def success_rate(self) -> float | None:
        """SUCCEEDED among the jobs that ended (PARTIAL and FAILED are not successes)."""
        ended = self.succeeded + self.partial + self.failed
        return round(self.succeeded / ended, 4) if ended else None


_STATS = text(
    """
SELECT count(*),
       count(*) FILTER (WHERE status = 'SUCCEEDED'),
       count(*) FILTER (WHERE status = 'PARTIAL'),
       count(*) FILTER (WHERE status = 'FAILED'),
       count(*) FILTER (WHERE status = 'ROLLED_BACK'),
       count(*) FILTER (WHERE status IN ('QUEUED', 'RUNNING')),
       coalesce(sum(processed), 0),
       coalesce(sum(failed), 0),
       sum(processed) FILTER (WHERE finished_at IS NOT NULL AND started_at IS NOT NULL)
         / nullif(sum(extract(epoch FROM finished_at - started_at))
                  FILTER (WHERE finished_at IS NOT NULL AND started_at IS NOT NULL), 0),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
         FILTER (WHERE finished_at IS NOT NULL AND started_at IS NOT NULL)
FROM import_jobs
WHERE org_id = :org_id AND created_at >= :start AND created_at < :end AND NOT dry_run
"""
)


async def stats(
    session: AsyncSession, *, org_id: uuid.UUID, start: datetime, end: datetime
) -> Stats:
    """AttendlyV1's import KPIs over the jobs created in [start, end): one statement."""
    if end <= start:
        raise ServiceError.single("to", "to must be after from", ErrorCode.OUT_OF_RANGE)
    row = (await session.execute(_STATS, {"org_id": org_id, "start": start, "end": end})).one()
    jobs, succeeded, partial, failed, rolled_back, running, processed, rejected = (
        int(v) for v in row[:8]
    )
    rate, median = row[8], row[9]
    return Stats(
        jobs=jobs,
        succeeded=succeeded,
        partial=partial,
        failed=failed,
        rolled_back=rolled_back,
        running=running,
        rows_processed=processed,
        rows_failed=rejected,
        rows_per_second=round(float(rate), 1) if rate is not None else None,
        median_seconds=round(float(median), 3) if median is not None else None,
    )
