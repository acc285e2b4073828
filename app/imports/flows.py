"""Starting an import: the job and its files committed first, then queued, so that nothing
the API acknowledged is lost if the queue is down (the worker's sweep finds the job)."""

from __future__ import annotations

from collections.abc import Sequence

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.imports import service
from app.imports.kinds import ImportKind
from app.imports.models import ImportJob
from app.queue import JobQueue


async def start(
    db: Database,
    queue: JobQueue | None,
    *,
    actor: Principal,
    kind: ImportKind,
    uploads: Sequence[service.Upload],
    dry_run: bool,
    settings: Settings,
) -> ImportJob:
    async with db.transaction(actor.org_id) as session:
        job = await service.create(
            session,
            actor=actor,
            kind=kind,
            uploads=uploads,
            dry_run=dry_run,
            max_file_bytes=settings.import_max_file_bytes,
        )
    if queue is not None:
        await queue.enqueue("run_import", str(job.id), job_id=service.job_key(job.id, 0))
    return job
