"""The embedded servers keep their data across a stop and a start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import redis

from app.devservices import EmbeddedServices


def _pg(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def test_data_survives_restart(tmp_path: Path) -> None:
    services = EmbeddedServices(tmp_path / "data").start()
    try:

        async def write() -> None:
            conn = await asyncpg.connect(_pg(services.database_url))
            await conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')")
            await conn.close()

        asyncio.run(write())
        client = redis.Redis.from_url(services.redis_url)
        client.rpush("queue", "job-1")
        client.close()
        services.stop()
        assert not services.postgres._running_port()

        again = EmbeddedServices(tmp_path / "data").start()
        assert again.started_any

        async def read() -> str:
            conn = await asyncpg.connect(_pg(again.database_url))
            value: str = await conn.fetchval("SELECT v FROM kept")
            await conn.close()
            return value

        assert asyncio.run(read()) == "hello"
        client = redis.Redis.from_url(again.redis_url)
        assert client.lrange("queue", 0, -1) == [b"job-1"]
        client.close()
    finally:
        EmbeddedServices(tmp_path / "data").destroy()
