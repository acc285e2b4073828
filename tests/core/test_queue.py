"""The API's queue handle (app.queue.JobQueue) on a real Valkey: a queue that could not
connect at start-up connects on the next enqueue, once, however many arrive together."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app import queue as queue_module
from app.queue import JobQueue
from tests.conftest import Servers


async def test_enqueues_arriving_together_open_one_connection_pool(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After-commit steps enqueue from tasks of their own (Database._committed): after a
    # start-up without Redis, the first ones arrive together. Each used to open a pool, the
    # last one kept: the others were never closed.
    opened: list[Any] = []
    connect = queue_module.connect

    async def counting_connect(url: str) -> Any:
        pool = await connect(url)
        opened.append(pool)
        return pool

    monkeypatch.setattr(queue_module, "connect", counting_connect)
    queue = JobQueue(servers.redis_url)  # as if Redis had been down at start-up
    try:
        results = await asyncio.gather(
            *(queue.enqueue("no_such_job", i, job_id=f"queue-test-{i}") for i in range(8))
        )
        assert results == [True] * 8
        assert len(opened) == 1
        assert queue.pool is opened[0]
    finally:
        for pool in opened:  # the jobs go (no worker runs them), then the pools
            await pool.delete(*(f"arq:job:queue-test-{i}" for i in range(8)))
            await pool.zrem("arq:queue", *(f"queue-test-{i}" for i in range(8)))
            if pool is not queue.pool:
                await pool.aclose()
        await queue.close()
