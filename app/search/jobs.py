"""arq job bodies for search: thin, calling app.search.service. Jobs take ids (an org, its
students); what is stale is read from Postgres, so a lost job costs only a delay: the sweep
finds every source whose document is missing or stale and queues its org again."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq import ArqRedis

from app import queue
from app.config import get_settings
from app.db import Database
from app.search import embeddings, service

log = logging.getLogger(__name__)


def org_job_id(org_id: uuid.UUID | str) -> str:
    """One queued (or running) whole-org indexing job per org at a time."""
    return f"search-index:{org_id}"


async def index_students(
    ctx: dict[str, Any], org_id: str, student_ids: list[str]
) -> dict[str, int]:
    """After a commit that wrote about these students: their stale documents, now."""
    db: Database = ctx["db"]
    provider = embeddings.provider(get_settings())
    done = await service.index_pending(
        db, provider, uuid.UUID(org_id), student_ids=[uuid.UUID(s) for s in student_ids]
    )
    return {"embedded": done.embedded, "deleted": done.deleted}


async def index_org(ctx: dict[str, Any], org_id: str) -> dict[str, int]:
    """Every stale document of one org: after a reindex request, a model change, or what
    the sweep found."""
    db: Database = ctx["db"]
    provider = embeddings.provider(get_settings())
    await service.ensure_vector_index(db, provider)
    done = await service.index_pending(db, provider, uuid.UUID(org_id))
    return {"embedded": done.embedded, "deleted": done.deleted}


async def sweep_search(ctx: dict[str, Any]) -> int:
    """Cron: queue an indexing job for every org with a document missing, stale or
    orphaned (a job the queue lost, a Valkey outage, a model switch); how many."""
    db: Database = ctx["db"]
    pool: ArqRedis = ctx["redis"]
    provider = embeddings.provider(get_settings())
    try:
        await service.ensure_vector_index(db, provider)
    except Exception:
        log.exception("could not create the search index (search still works, unindexed)")
    queued = 0
    for org_id in await service.orgs_pending(db, provider):
        queued += await queue.enqueue(pool, "index_org", str(org_id), job_id=org_job_id(org_id))
    return queued
