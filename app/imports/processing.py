"""Processing an import job (the worker's side): claimed, its files spooled to local disk,
checked at the file and header layers before anything is written, then read in batches,
each committed with the job's progress, so that a job whose worker died resumes after its
last committed batch. Transient database errors retry a batch with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import asyncpg
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ErrorCode
from app.db import Database
from app.events import service as events
from app.events.service import Topic
from app.imports import apply, service
from app.imports.formats import Format, RowError, open_format
from app.imports.models import (
    ImportChange,
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportKey,
    ImportRowError,
    ImportStatus,
)
from app.imports.reading import FileProblem, Row, Table
from app.logs import log_internal
from app.metrics import IMPORT_JOBS, IMPORT_ROWS, IMPORT_SECONDS
from app.orgs.models import Org, Role

log = logging.getLogger(__name__)

RETRIES = 5  # a batch that meets a transient database error is tried again, with backoff


async def _claim(db: Database, job_id: uuid.UUID, stale: timedelta) -> tuple[ImportJob, Org] | None:
    """The job, now RUNNING and ours: QUEUED, or RUNNING with a heartbeat older than
    `stale` (its worker died). None when it is finished, or alive elsewhere."""
    async with db.admin_transaction() as session:
        claimed = (
            await session.execute(
                update(ImportJob)
                .where(
                    ImportJob.id == job_id,
                    (ImportJob.status == ImportStatus.QUEUED)
                    | (
                        (ImportJob.status == ImportStatus.RUNNING)
                        & (ImportJob.heartbeat_at < func.now() - stale)
                    ),
                )
                .values(
                    status=ImportStatus.RUNNING,
                    attempts=ImportJob.attempts + 1,
                    heartbeat_at=func.now(),
                    started_at=func.coalesce(ImportJob.started_at, func.now()),
                )
                .returning(ImportJob)
            )
        ).scalar_one_or_none()
        if claimed is None:
            return None
        org = (await session.execute(select(Org).where(Org.id == claimed.org_id))).scalar_one()
        return claimed, org


MAX_ATTEMPTS = 5  # runs of one job (workers killed under it each time): then it fails


@dataclass
class _Opened:
    file: ImportFile
    spool: IO[bytes]


async def _spool(db: Database, job: ImportJob, file: ImportFile) -> IO[bytes]:
    """The file's bytes copied to a local temporary file, a chunk at a time: parsing then
    streams from disk, and memory stays flat whatever the file's size."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    for seq in range(file.chunks):
        async with db.transaction(job.org_id) as session:
            data = (
                await session.execute(
                    select(ImportFileChunk.data).where(
                        ImportFileChunk.file_id == file.id, ImportFileChunk.seq == seq
                    )
                )
            ).scalar_one()
        await asyncio.to_thread(spool.write, data)
    return spool


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while piece := spool.read(service.CHUNK_BYTES):
        yield piece


async def process(
    db: Database, job_id: uuid.UUID, *, batch_size: int, stale: timedelta
) -> ImportJob | None:
    """Run (or resume) the job; the finished job, or None when it was not ours to run."""
    claimed = await _claim(db, job_id, stale)
    if claimed is None:
        return None
    job, org = claimed
    started = datetime.now(UTC)
    actor = Principal(
        sub=job.created_by, role=Role(job.created_role), org_id=org.id, org_slug=org.slug
    )
    if job.attempts > MAX_ATTEMPTS:
        gave_up = RowError(
            0,
            None,
            None,
            f"the import's worker stopped {MAX_ATTEMPTS} times without finishing it (killed, "
            "or out of memory): the rows committed before stay",
            ErrorCode.INTERNAL_SERVER_ERROR,
            "",
        )
        return await _finish(db, job, actor, [gave_up], started)
    async with db.transaction(org.id) as session:
        files = list(
            (
                await session.execute(
                    select(ImportFile)
                    .where(ImportFile.job_id == job.id)
                    .order_by(ImportFile.position)
                )
            ).scalars()
        )
    # The heartbeat goes on while a batch runs, however long it takes: only a dead (or
    # frozen) worker goes silent long enough to lose the job.
    beating = asyncio.create_task(_beat(db, job, stale.total_seconds() / 3))
    try:
        with contextlib.ExitStack() as stack:
            opened = []
            for file in files:
                spool = await _spool(db, job, file)
                stack.callback(spool.close)
                opened.append(_Opened(file, spool))
            problems = _file_problems(job, opened)
            if problems:
                return await _finish(db, job, actor, problems, started)
            for position, item in enumerate(opened):
                if position < job.resume_file:
                    continue
                after = job.resume_row if position == job.resume_file else 1
                await _run_file(db, job, actor, item, after, batch_size)
        return await _finish(db, job, actor, [], started)
    except LostClaim:
        log.warning("import %s: another worker has taken it over; this run stops", job.id)
        return None
    except Exception as exc:
        # A bug or a lasting fault: the job ends FAILED with the error's id (the detail,
        # without any row's content, is in the log), never RUNNING forever.
        error_id = log_internal(exc, where=f"import {job.id}")
        return await _finish(db, job, actor, [_internal(job, error_id)], started)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _beat(db: Database, job: ImportJob, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            async with db.transaction(job.org_id) as session:
                await session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job.id, ImportJob.attempts == job.attempts)
                    # updated_at as it was: a beat is no change to the job's figures
                    .values(heartbeat_at=func.now(), updated_at=ImportJob.updated_at)
                )
        except Exception as exc:  # a blip: the next beat, or the batch's commit, says more
            log.warning("import %s: heartbeat not written (%s)", job.id, type(exc).__name__)


def _file_problems(job: ImportJob, opened: Sequence[_Opened]) -> list[RowError]:
    """The file and header layers of every file, before anything is written: any problem
    fails the whole job (one error per file naming it)."""
    problems = []
    for item in opened:
        try:
            _format, table = open_format(job.kind, item.file.name, _chunks(item.spool))
            next(iter(table.rows()))  # no data rows: FileProblem(NO_DATA_ROWS)
        except FileProblem as problem:
            problems.append(RowError(0, None, None, problem.message, problem.code, item.file.name))
    return problems


async def _run_file(
    db: Database, job: ImportJob, actor: Principal, item: _Opened, after: int, batch_size: int
) -> None:
    fmt, table = open_format(job.kind, item.file.name, _chunks(item.spool))
    seen = apply.Keys(job.org_id, job.id)  # duplicates: the keys the job has taken
    batch: list[Row] = []
    for row in table.rows():
        if row.number <= after:
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            await _batch(db, job, actor, item.file, fmt, table, batch, seen)
            batch = []
    if batch:
        await _batch(db, job, actor, item.file, fmt, table, batch, seen)
    async with db.transaction(job.org_id) as session:  # the file is done: on to the next
        job.resume_file, job.resume_row = item.file.position + 1, 1
        moved = await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id, ImportJob.attempts == job.attempts)
            .values(resume_file=job.resume_file, resume_row=1, heartbeat_at=func.now())
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            raise LostClaim(str(job.id))


async def _batch(
    db: Database,
    job: ImportJob,
    actor: Principal,
    file: ImportFile,
    fmt: Format,
    table: Table,
    rows: list[Row],
    seen: apply.Keys,
) -> None:
    records: list[Any] = []
    errors: list[RowError] = []
    skipped = 0
    for row in rows:
        parsed = fmt.parse(row, table)
        if parsed is None:
            skipped += 1
        elif isinstance(parsed, list):
            errors.extend(parsed)
        else:
            records.append(parsed)
    failed_rows = {e.row for e in errors}

    def header(name: str) -> str:
        if name in table.mapping:
            return table.headers[table.mapping[name]]
        column = next((c for c in fmt.columns if c.name == name), None)
        return column.label if column is not None else name

    for attempt in range(RETRIES):
        try:
            await _commit_batch(
                db, job, actor, records, errors, rows, skipped, failed_rows, seen, header
            )
            return
        except (OperationalError, DBAPIError, OSError, asyncpg.PostgresConnectionError) as exc:
            if attempt == RETRIES - 1 or not _transient(exc):
                raise
            await asyncio.sleep(0.2 * 2**attempt)
            if await _committed(db, job, rows[-1].number):
                return  # the COMMIT went through; only its answer was lost
            log.warning("import %s: batch retried after %s", job.id, type(exc).__name__)


async def _committed(db: Database, job: ImportJob, last_row: int) -> bool:
    """Whether the batch ending at `last_row` is already in the job's progress (its COMMIT
    succeeded although the connection failed before saying so): it is then not applied
    twice. The job is brought up to date with what was committed."""
    async with db.transaction(job.org_id) as session:
        row = (
            await session.execute(
                select(ImportJob).where(ImportJob.id == job.id, ImportJob.attempts == job.attempts)
            )
        ).scalar_one_or_none()
    if row is None or row.resume_file != job.resume_file or row.resume_row < last_row:
        return False
    _copy(row, job)
    return True


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and getattr(exc, "connection_invalidated", False):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    # Serialization failure, deadlock, connection errors, admin shutdown, too many connections.
    return isinstance(exc, OSError | asyncpg.PostgresConnectionError) or str(code or "")[:2] in {
        "40",
        "08",
        "57",
        "53",
    }


async def _commit_batch(
    db: Database,
    job: ImportJob,
    actor: Principal,
    records: list[Any],
    parse_errors: list[RowError],
    rows: list[Row],
    skipped: int,
    failed_rows: set[int],
    seen: apply.Keys,
    header: apply.Header,
) -> None:
    async with db.transaction(job.org_id) as session:
        if job.dry_run:  # everything checked and counted, then undone
            nested = await session.begin_nested()
            outcome = await apply.apply(
                session, actor=actor, job=job, records=records, seen=seen, header=header
            )
            await nested.rollback()
        else:
            outcome = await apply.apply(
                session, actor=actor, job=job, records=records, seen=seen, header=header
            )
        await _record_errors(session, job, parse_errors + outcome.errors)
        if outcome.changes and not job.dry_run:
            await session.execute(
                insert(ImportChange),
                [
                    {
                        "org_id": job.org_id,
                        "job_id": job.id,
                        "entity": c.entity,
                        "entity_id": c.entity_id,
                        "student_id": c.student_id,
                        "before": c.before,
                    }
                    for c in outcome.changes
                ],
            )
        failed = len(failed_rows | outcome.failed_rows)
        counts = {
            "processed": len(rows),
            "inserted": outcome.inserted,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "skipped": skipped + outcome.superseded,
            "failed": failed,
            "created_students": outcome.created_students,
        }
        values: dict[str, Any] = {k: getattr(ImportJob, k) + v for k, v in counts.items()}
        job_row = await _progress(session, job, **values, resume_row=rows[-1].number)
    for outcome_name, n in (
        ("inserted", outcome.inserted),
        ("updated", outcome.updated),
        ("unchanged", outcome.unchanged),
        ("skipped", skipped + outcome.superseded),
        ("failed", failed),
    ):
        if n:
            IMPORT_ROWS.labels(job.kind.value, outcome_name).inc(n)
    _copy(job_row, job)


async def _record_errors(session: AsyncSession, job: ImportJob, errors: list[RowError]) -> None:
    if errors:
        await session.execute(
            insert(ImportRowError),
            [
                {
                    "org_id": job.org_id,
                    "job_id": job.id,
                    "file": e.file[:255],
                    "row": e.row or None,  # 0: the file itself
                    "column": e.column[:255] if e.column else e.column,
                    "value": e.value,
                    "message": e.message,
                    "code": e.code.value,
                }
                for e in errors
            ],
        )


class LostClaim(Exception):
    """Another worker has claimed the job (this one went silent for longer than the stale
    time): this run stops, and its uncommitted batch is rolled back."""


async def _progress(session: AsyncSession, job: ImportJob, **values: Any) -> ImportJob:
    """The job's row with `values` written (its heartbeat too), and its progress event;
    LostClaim when the job is no longer this run's (its claim is the attempt it made)."""
    row: ImportJob | None = (
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id, ImportJob.attempts == job.attempts)
            .values(**values, heartbeat_at=func.now())
            .returning(ImportJob)
        )
    ).scalar_one_or_none()
    if row is None:
        raise LostClaim(str(job.id))
    await events.record(
        session,
        org_id=job.org_id,
        topic=Topic.IMPORT_PROGRESS,
        import_job_id=job.id,
        payload=service.progress(row),
    )
    return row


def _copy(source: ImportJob, target: ImportJob) -> None:
    for name in (
        "processed",
        "inserted",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "created_students",
        "resume_file",
        "resume_row",
        "status",
        "finished_at",
    ):
        setattr(target, name, getattr(source, name))


def _internal(job: ImportJob, error_id: str) -> RowError:
    return RowError(
        0,
        None,
        None,
        f"the import stopped on an internal error (errorId {error_id}); the rows committed "
        "before it stay: roll the import back, or import the file again",
        ErrorCode.INTERNAL_SERVER_ERROR,
        "",
    )


async def _finish(
    db: Database,
    job: ImportJob,
    actor: Principal,
    problems: list[RowError],
    started: datetime,
) -> ImportJob:
    async with db.transaction(job.org_id) as session:
        await _record_errors(session, job, problems)
        # The job's keys served its duplicates, its files' bytes its run: neither is needed
        # by a rollback or a report, and an upload does not stay in the database for good.
        await session.execute(delete(ImportKey).where(ImportKey.job_id == job.id))
        await session.execute(
            delete(ImportFileChunk).where(
                ImportFileChunk.file_id.in_(
                    select(ImportFile.id).where(ImportFile.job_id == job.id)
                )
            )
        )
        if problems:
            status = ImportStatus.FAILED
        else:
            status = ImportStatus.PARTIAL if job.failed else ImportStatus.SUCCEEDED
        done = await _progress(session, job, status=status, finished_at=func.now())
    IMPORT_JOBS.labels(job.kind.value, status.value).inc()
    IMPORT_SECONDS.labels(job.kind.value).observe((datetime.now(UTC) - started).total_seconds())
    _copy(done, job)
    log.info(
        "import finished",
        extra={"import_job": str(job.id), "kind": job.kind.value, "status": status.value},
    )
    return job
