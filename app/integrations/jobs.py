"""arq job bodies for webhooks: thin, calling app.integrations.delivery. A job takes a
delivery's id; whether it is due, and what happened, is in Postgres."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from arq import ArqRedis

from app import queue
from app.config import Settings, get_settings
from app.db import Database
from app.integrations import delivery, sheets
from app.integrations.models import DeliveryStatus


def policy(settings: Settings) -> delivery.Policy:
    return delivery.Policy(
        base_seconds=settings.webhook_retry_base_seconds,
        max_attempts=settings.webhook_max_attempts,
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private_urls,
    )


def client(ctx: dict[str, Any]) -> httpx.AsyncClient:
    """The worker's one HTTP client (connection reuse across deliveries); redirects are not
    followed, so an endpoint cannot bounce a post to an address we refused."""
    http: httpx.AsyncClient | None = ctx.get("http")
    if http is None:
        http = ctx["http"] = httpx.AsyncClient(follow_redirects=False)
    return http


async def deliver_webhook(ctx: dict[str, Any], delivery_id: str) -> dict[str, Any] | None:
    """Post one delivery (if it is due and not being posted elsewhere); on a failure to be
    retried, queue the next attempt for its time (the sweep queues it too, if this is lost)."""
    db: Database = ctx["db"]
    outcome = await delivery.deliver(
        db, client(ctx), uuid.UUID(delivery_id), policy(get_settings())
    )
    if outcome is None:
        return None
    if outcome.status is DeliveryStatus.FAILED:
        await queue.enqueue(
            ctx["redis"],
            "deliver_webhook",
            delivery_id,
            job_id=delivery.job_id(delivery_id, outcome.attempts),
            defer_until=outcome.next_attempt_at,
        )
    return {
        "status": outcome.status.value,
        "attempts": outcome.attempts,
        "statusCode": outcome.status_code,
    }


async def sweep_webhooks(ctx: dict[str, Any]) -> int:
    """Cron: queue every delivery that is due and not being posted (the queue lost it,
    Valkey was down when it was written, a worker died holding it); how many."""
    db: Database = ctx["db"]
    pool: ArqRedis = ctx["redis"]
    queued = 0
    for delivery_id, attempts in await delivery.due(db):
        queued += await queue.enqueue(
            pool,
            "deliver_webhook",
            str(delivery_id),
            job_id=delivery.job_id(delivery_id, attempts),
        )
    return queued


def sheets_config(settings: Settings) -> sheets.SheetsConfig:
    return sheets.SheetsConfig(
        api_root=settings.sheets_api_root,
        timeout=settings.sheets_timeout_seconds,
        batch_size=settings.import_batch_size,
        stale=timedelta(seconds=settings.import_stale_seconds),
        max_file_bytes=settings.import_max_file_bytes,
    )


def sync_job_id(source_id: uuid.UUID | str, due_at: datetime) -> str:
    """One queued run per source and due time."""
    return f"sheets:{source_id}:{int(due_at.timestamp())}"


async def sync_sheet(ctx: dict[str, Any], source_id: str) -> dict[str, Any] | None:
    """Run one Google Sheets source if it is due."""
    run = await sheets.run_sync(ctx["db"], uuid.UUID(source_id), sheets_config(get_settings()))
    if run is None:
        return None
    return {"status": run.status.value, "rows": run.rows, "error": run.error}


async def sweep_sheets(ctx: dict[str, Any]) -> int:
    """Cron: record runs their worker left behind, then queue every Google Sheets source
    that is due; how many."""
    await sheets.reap(ctx["db"])
    queued = 0
    for source_id, due_at in await sheets.due(ctx["db"]):
        queued += await queue.enqueue(
            ctx["redis"], "sync_sheet", str(source_id), job_id=sync_job_id(source_id, due_at)
        )
    return queued
