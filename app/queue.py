"""The arq queue as the API and the worker share it: JSON job arguments (ids, never
payloads: a job's state lives in Postgres) and one way to enqueue.

Enqueueing is an accelerator, not the truth: a job row committed before it is enqueued is
found again by a sweep if the queue loses it (or Redis is down when it is enqueued)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

log = logging.getLogger(__name__)


def serialize(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def deserialize(raw: bytes) -> Any:
    return json.loads(raw)


def redis_settings(url: str | None) -> RedisSettings:
    return RedisSettings.from_dsn(url) if url else RedisSettings()


async def connect(url: str) -> ArqRedis:
    settings = redis_settings(url)
    settings.conn_retries = 0  # a Redis that is down must not hold up start-up
    return await create_pool(settings, job_serializer=serialize, job_deserializer=deserialize)


async def enqueue(
    pool: ArqRedis | None,
    function: str,
    *args: Any,
    job_id: str,
    defer_until: datetime | None = None,
) -> bool:
    """Queue `function(*args)` under `job_id` (a job already queued under it is not queued
    twice), to run at `defer_until` if given; False when the queue could not take it (the
    sweep will)."""
    if pool is None:
        return False
    try:
        job = await pool.enqueue_job(function, *args, _job_id=job_id, _defer_until=defer_until)
        return job is not None
    except Exception as exc:
        log.warning("could not enqueue %s (%s); the sweep will", function, type(exc).__name__)
        return False


class JobQueue:
    """The API's handle on the queue: connected in the app's lifespan, within `timeout`
    (a Redis that is down or hangs must not hold up start-up: the queue then connects on
    the next enqueue, and meanwhile the worker's sweeps run what is committed)."""

    def __init__(self, url: str, *, timeout: float = 1.5) -> None:
        self.url = url
        self.timeout = timeout
        self.pool: ArqRedis | None = None
        # After-commit steps enqueue from tasks of their own: after a start-up without
        # Redis, the first ones arrive together and must open one pool, not one each.
        self._connecting = asyncio.Lock()

    async def start(self) -> None:
        async with self._connecting:
            if self.pool is not None:
                return
            try:
                async with asyncio.timeout(self.timeout):
                    self.pool = await connect(self.url)
            except Exception as exc:
                log.warning(
                    "queue unreachable (%s); sweeps will run what is queued", type(exc).__name__
                )

    async def close(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.aclose()

    async def enqueue(self, function: str, *args: Any, job_id: str) -> bool:
        if self.pool is None:
            await self.start()
        try:
            async with asyncio.timeout(self.timeout):
                return await enqueue(self.pool, function, *args, job_id=job_id)
        except TimeoutError:
            log.warning("queue did not answer; the sweep will queue %s", function)
            return False
