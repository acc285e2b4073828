"""arq WorkerSettings. Jobs take ids, not payloads; their state lives in Postgres.

The job functions arrive with the imports and integrations work; `ping` lets an operator
check that a worker consumes the queue (`arq workers.settings.WorkerSettings --check`).
"""

from __future__ import annotations

import json
from typing import Any

from arq.connections import RedisSettings

from app.config import get_settings


async def ping(ctx: dict[str, Any]) -> str:
    return "pong"


def _redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    return RedisSettings.from_dsn(url) if url else RedisSettings()


class WorkerSettings:
    functions = [ping]
    redis_settings = _redis_settings()
    # JSON, not pickle: job arguments are ids and must be readable by any worker version.
    job_serializer = staticmethod(lambda obj: json.dumps(obj).encode())
    job_deserializer = staticmethod(lambda raw: json.loads(raw))
    max_jobs = 10
