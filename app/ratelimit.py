"""An optional per-subject rate limit (RATE_LIMIT), kept in Redis so that every API replica
counts the same window. A limit that cannot be checked (Redis down) lets the request through:
logging an incident matters more than counting it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as redis
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds
    limit: str = ""


class RateLimiter:
    def __init__(self, spec: str, client: redis.Redis, *, timeout: float = 0.5) -> None:
        self.items: list[RateLimitItem] = parse_many(spec)
        self.timeout = timeout
        # The app's own connection pool: closed with it, no second set of connections.
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix="schoolgraph:ratelimit",
            connection_pool=client.connection_pool,  # type: ignore[arg-type]  # typed too narrowly
        )
        self.strategy = MovingWindowRateLimiter(storage)

    async def check(self, subject: str) -> Verdict:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._check(subject)
        except Exception as exc:
            log.warning("rate limit not checked: %s", type(exc).__name__)
            return Verdict(True)

    async def _check(self, subject: str) -> Verdict:
        for item in self.items:
            if not await self.strategy.hit(item, subject):
                stats = await self.strategy.get_window_stats(item, subject)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                return Verdict(False, wait, str(item))
        return Verdict(True)
