"""arq WorkerSettings. Jobs take ids, not payloads; state lives in Postgres."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings

from app.config import get_settings


async def ping(ctx: dict[str, Any]) -> str:
    """A no-op job used to check that a worker is consuming the queue."""
    return "pong"


class WorkerSettings:
    functions = [ping]
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url or "redis://127.0.0.1:6379")
