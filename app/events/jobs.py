"""arq job bodies for the event log: thin, calling app.events.service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.config import get_settings
from app.db import Database
from app.events import service


async def purge_events(ctx: dict[str, Any]) -> int:
    """Cron: delete events older than EVENT_RETENTION_DAYS; how many."""
    db: Database = ctx["db"]
    retention = timedelta(days=get_settings().event_retention_days)
    return await service.purge(db, retention=retention, now=datetime.now(UTC))
