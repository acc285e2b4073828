"""arq job bodies for student records: thin, calling app.records. Jobs take ids; the state
lives in Postgres (generated_files, erasures)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from arq import ArqRedis
from sqlalchemy import or_, select

from app import queue
from app.config import get_settings
from app.db import Database
from app.iep import reports
from app.orgs.models import Org
from app.records import erasure, export, files, retention
from app.records.models import FileKind, FileStatus, GeneratedFile

log = logging.getLogger("schoolgraph.records")

# Which job makes each kind of file.
BUILDERS = {
    FileKind.STUDENT_RECORD: "build_student_record",
    FileKind.IEP_REPORT: "build_iep_report",
    FileKind.IEP_REPORTS: "build_iep_report",
}


def file_job_id(file_id: uuid.UUID) -> str:
    return f"file:{file_id}"


async def build_student_record(ctx: dict[str, Any], org_id: str, file_id: str) -> str | None:
    """Make one student's record ZIP; its status, or None when it was not to be made."""
    db: Database = ctx["db"]
    oid = uuid.UUID(org_id)

    async def build(row: GeneratedFile) -> files.Output:
        assert row.student_id is not None
        async with db.transaction(oid) as session:
            org = await session.get(Org, oid)
            data, name = await export.build(
                session,
                org_id=oid,
                student_id=row.student_id,
                school=org.name if org is not None else "",
                now=datetime.now(UTC),
            )
        return files.Output(data, name, "application/zip", ".zip")

    return _status(await files.make(db, get_settings(), oid, uuid.UUID(file_id), build))


async def build_iep_report(ctx: dict[str, Any], org_id: str, file_id: str) -> str | None:
    """One student's IEP progress report, or a caseload's ZIP (app.iep.reports.make)."""
    db: Database = ctx["db"]
    status = await reports.make(db, get_settings(), uuid.UUID(org_id), uuid.UUID(file_id))
    return _status(status)


def _status(status: FileStatus | None) -> str | None:
    return status.value if status is not None else None


async def finish_erasure(ctx: dict[str, Any], org_id: str, erasure_id: str) -> bool:
    return await erasure.finish(ctx["db"], get_settings(), uuid.UUID(org_id), uuid.UUID(erasure_id))


async def sweep_files(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: expire downloads past their time, finish erasures whose files are not yet
    verified gone, and queue again the file jobs the queue lost."""
    db: Database = ctx["db"]
    pool: ArqRedis = ctx["redis"]
    settings = get_settings()
    now = datetime.now(UTC)
    expired = await files.expire(db, settings, now)
    verified = 0
    for org_id, erasure_id in await erasure.unverified(db):
        try:
            verified += await erasure.finish(db, settings, org_id, erasure_id)
        except Exception:  # one erasure's trouble must not stop the others'
            log.exception("erasure %s: files not verified yet", erasure_id)
    async with db.admin_transaction() as session:
        lost = list(
            await session.execute(
                select(GeneratedFile.org_id, GeneratedFile.id, GeneratedFile.kind).where(
                    or_(
                        (GeneratedFile.status == FileStatus.QUEUED)
                        & (GeneratedFile.created_at < now - timedelta(minutes=2)),
                        (GeneratedFile.status == FileStatus.RUNNING)
                        & (GeneratedFile.started_at < now - files.STALE_RUN),
                    )
                )
            )
        )
    requeued = 0
    for org_id, file_id, kind in lost:
        # A run that keeps failing ends FAILED after files.MAX_ATTEMPTS (files.start).
        requeued += await queue.enqueue(
            pool, BUILDERS[kind], str(org_id), str(file_id), job_id=file_job_id(file_id)
        )
    return {"expired": expired, "verified": verified, "requeued": requeued}


async def apply_retention(ctx: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Cron (daily): every org's retention policy, applied; the counts per org."""
    db: Database = ctx["db"]
    now = datetime.now(UTC)
    out = {}
    for org_id, slug, policy in await retention.orgs_with_policy(db):
        if retention.cutoffs(policy, now):
            try:
                done = await retention.apply(db, org_id=org_id, now=now)
            except Exception:  # the next org's retention still runs; this one tomorrow
                log.exception("retention failed for %s", slug)
                continue
            out[slug] = {d.rule.table: d.rows for d in done}
    return out
