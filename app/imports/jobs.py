"""arq job bodies for imports: thin, calling app.imports.service. Jobs take ids; the job's
state (its files, where it got to, its counts) lives in Postgres."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from arq import ArqRedis

from app import queue
from app.config import get_settings
from app.db import Database
from app.imports import processing, service


async def run_import(ctx: dict[str, Any], job_id: str) -> dict[str, Any] | None:
    """Run (or resume) one import; its final counts, or None when it was not this run's
    (finished already, or alive on another worker)."""
    settings = get_settings()
    db: Database = ctx["db"]
    job = await processing.process(
        db,
        uuid.UUID(job_id),
        batch_size=settings.import_batch_size,
        stale=timedelta(seconds=settings.import_stale_seconds),
    )
    return service.progress(job) if job is not None else None


async def sweep_imports(ctx: dict[str, Any]) -> int:
    """Cron: hand every import a worker lost (or the queue never delivered) to a worker
    again; how many."""
    settings = get_settings()
    db: Database = ctx["db"]
    pool: ArqRedis = ctx["redis"]
    stale = timedelta(seconds=settings.import_stale_seconds)
    handed = 0
    for job_id, attempts in await service.due(db, stale=stale, queued_for=stale):
        handed += await queue.enqueue(
            pool, "run_import", str(job_id), job_id=service.job_key(job_id, attempts)
        )
    return handed
