"""Generated files: a job's output (a student's record, an IEP report) written under
Settings.generated_files_dir, downloaded by its requester (or an ADMIN) until it expires.

Files are written to a temporary name and renamed, so a download never reads half a file;
their names on disk are ids only (no student's name in a path)."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.events import service as events
from app.events.service import Topic
from app.orgs.models import Role
from app.records.models import FileKind, FileStatus, GeneratedFile

log = logging.getLogger("schoolgraph.records")


def disk_path(settings: Settings, relative: str) -> Path:
    return settings.generated_files_dir / relative


async def request(
    session: AsyncSession,
    *,
    actor: Principal,
    kind: FileKind,
    student_id: uuid.UUID | None,
    params: dict[str, Any],
) -> GeneratedFile:
    """A file to make, queued; audited as asked for (who, what, about whom)."""
    row = GeneratedFile(
        org_id=actor.org_id,
        kind=kind,
        status=FileStatus.QUEUED,
        student_id=student_id,
        requested_by=actor.sub,
        requested_role=actor.role.value,
        params=params,
        done=0,
        total=0,
    )
    session.add(row)
    await audit.record(
        session, actor=actor, action=f"file.request.{kind.value.lower()}", entity=row, before=None
    )
    return row


async def _locked(
    session: AsyncSession, org_id: uuid.UUID, file_id: uuid.UUID
) -> GeneratedFile | None:
    stmt = select(GeneratedFile).where(GeneratedFile.org_id == org_id, GeneratedFile.id == file_id)
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


MAX_ATTEMPTS = 3
# A run older than this is taken for lost (its worker died or the job timed out): the
# sweep queues it again, up to MAX_ATTEMPTS runs.
STALE_RUN = timedelta(minutes=20)


async def start(db: Database, org_id: uuid.UUID, file_id: uuid.UUID) -> GeneratedFile | None:
    """Begin a run of a queued (or lost) file: RUNNING, one more attempt. None when it is
    not to be made (made, failed, gone, or run MAX_ATTEMPTS times: then it is FAILED)."""
    async with db.transaction(org_id) as session:
        row = await _locked(session, org_id, file_id)
        if row is None or row.status not in (FileStatus.QUEUED, FileStatus.RUNNING):
            return None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = FileStatus.FAILED
            row.error = f"not made after {MAX_ATTEMPTS} attempts"
            row.finished_at = datetime.now(UTC)
            await _progress_event(session, org_id, file_id, row.done, row.total, row.status)
            return None
        row.status = FileStatus.RUNNING
        row.attempts += 1
        row.started_at = datetime.now(UTC)
        return row


async def set_progress(
    db: Database, org_id: uuid.UUID, file_id: uuid.UUID, done: int, total: int
) -> None:
    """How far the job is, on the file's row and as a `file.progress` event (the events
    subscription's topic): ids and counts only."""
    async with db.transaction(org_id) as session:
        await session.execute(
            update(GeneratedFile)
            .where(GeneratedFile.org_id == org_id, GeneratedFile.id == file_id)
            .values(done=done, total=total)
        )
        await _progress_event(session, org_id, file_id, done, total, FileStatus.RUNNING)


async def _progress_event(
    session: AsyncSession,
    org_id: uuid.UUID,
    file_id: uuid.UUID,
    done: int,
    total: int,
    status: FileStatus,
) -> None:
    await events.record(
        session,
        org_id=org_id,
        topic=Topic.FILE_PROGRESS,
        payload={"fileId": str(file_id), "done": done, "total": total, "status": status.value},
    )


@dataclass(frozen=True)
class Output:
    data: bytes
    name: str  # the download's name
    media_type: str
    suffix: str  # the file's extension on disk, e.g. ".zip"


async def store(
    db: Database, settings: Settings, org_id: uuid.UUID, file_id: uuid.UUID, out: Output
) -> GeneratedFile:
    """Write the file (atomically) and mark it READY until now + FILE_TTL_HOURS."""
    relative = f"{org_id}/{file_id}{out.suffix}"  # ids only: no name in a path
    target = disk_path(settings, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of this writer's own: two runs of one file never share one.
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    partial.write_bytes(out.data)
    os.replace(partial, target)
    now = datetime.now(UTC)
    try:
        async with db.transaction(org_id) as session:
            row = await _locked(session, org_id, file_id)
            if row is None:  # erased while it was being made: nothing of it may stay
                raise LookupError(f"generated file {file_id} is gone")
            row.status = FileStatus.READY
            row.path = relative
            row.name = out.name
            row.media_type = out.media_type
            row.size = len(out.data)
            row.sha256 = hashlib.sha256(out.data).hexdigest()
            row.finished_at = now
            row.expires_at = now + timedelta(hours=settings.file_ttl_hours)
            row.done = max(row.done, row.total)
            await _progress_event(session, org_id, file_id, row.done, row.total, row.status)
    except BaseException:
        target.unlink(missing_ok=True)  # no file on disk without its row
        raise
    return row


Builder = Callable[[GeneratedFile], Awaitable["Output"]]


async def make(
    db: Database, settings: Settings, org_id: uuid.UUID, file_id: uuid.UUID, build: Builder
) -> FileStatus | None:
    """One run of a file, for the worker's jobs and the CLI alike: begin it (`start`), build
    it from its row, store it. READY; FAILED when building raised (logged, the row says
    so); None when it was not to be made."""
    row = await start(db, org_id, file_id)
    if row is None:
        return None
    try:
        out = await build(row)
    except Exception:
        log.exception("generated file %s (%s) failed", file_id, row.kind.value)
        await fail(db, org_id, file_id, f"the {row.kind.value.lower()} could not be made")
        return FileStatus.FAILED
    return (await store(db, settings, org_id, file_id, out)).status


async def fail(db: Database, org_id: uuid.UUID, file_id: uuid.UUID, error: str) -> None:
    async with db.transaction(org_id) as session:
        failed = await session.execute(
            update(GeneratedFile)
            .where(
                GeneratedFile.org_id == org_id,
                GeneratedFile.id == file_id,
                GeneratedFile.status.in_((FileStatus.QUEUED, FileStatus.RUNNING)),
            )
            .values(status=FileStatus.FAILED, error=error[:2000], finished_at=datetime.now(UTC))
        )
        if failed.rowcount:  # type: ignore[attr-defined]
            await _progress_event(session, org_id, file_id, 0, 0, FileStatus.FAILED)


def may_download(actor: Principal, row: GeneratedFile) -> bool:
    """The requester, or an ADMIN of the org (RLS already keeps other orgs out)."""
    return actor.role is Role.ADMIN or (
        actor.sub == row.requested_by and actor.role.value == row.requested_role
    )


async def for_download(
    session: AsyncSession, *, actor: Principal, file_id: uuid.UUID, now: datetime
) -> GeneratedFile | str:
    """The file to send, audited as downloaded; or why not ("not found", "gone", "not
    ready"). Another's file reads as not found: its existence is not told."""
    row = (
        await session.execute(
            select(GeneratedFile).where(
                GeneratedFile.org_id == actor.org_id, GeneratedFile.id == file_id
            )
        )
    ).scalar_one_or_none()
    if row is None or not may_download(actor, row):
        return "not found"
    if row.status is FileStatus.EXPIRED or (row.expires_at is not None and row.expires_at <= now):
        return "gone"
    if row.status is not FileStatus.READY or row.path is None:
        return "not ready"
    await audit.record(
        session,
        actor=actor,
        action=f"file.download.{row.kind.value.lower()}",
        entity=row,
        before=None,
        after={
            "fileId": str(row.id),
            "studentId": str(row.student_id) if row.student_id else None,
            "kind": row.kind.value,
            "params": row.params,
        },
    )
    return row


async def expire(db: Database, settings: Settings, now: datetime) -> int:
    """Cron: delete the files past their expiry (every org's) and mark them EXPIRED."""
    async with db.admin_transaction() as session:
        rows = list(
            (
                await session.execute(
                    select(GeneratedFile)
                    .where(
                        GeneratedFile.status == FileStatus.READY, GeneratedFile.expires_at <= now
                    )
                    .with_for_update(skip_locked=True)
                    .limit(1000)
                )
            ).scalars()
        )
        for row in rows:
            if row.path:
                disk_path(settings, row.path).unlink(missing_ok=True)
            row.status = FileStatus.EXPIRED
        return len(rows)


def remove(settings: Settings, paths: list[str]) -> list[str]:
    """Delete generated files; the paths still present afterwards (none, normally)."""
    for relative in paths:
        target = disk_path(settings, relative)
        target.unlink(missing_ok=True)
        for partial in target.parent.glob(f".{target.name}.*.partial"):
            partial.unlink(missing_ok=True)
    return [p for p in paths if disk_path(settings, p).exists()]
