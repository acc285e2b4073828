"""Helpers shared by tests that need more than the session's app: a live uvicorn server on
loopback, and an app (with its lifespan) built from other settings or servers."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from arq import ArqRedis, Worker, create_pool
from arq.connections import RedisSettings
from arq.constants import default_queue_name

from app.config import Settings, get_settings
from app.main import create_app
from tests.conftest import JWT_SECRET, Servers
from workers.settings import WorkerSettings


@asynccontextmanager
async def live_server(app: Any) -> AsyncIterator[int]:
    """`app` served by uvicorn on a free loopback port (its lifespan left to the caller)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no "started" event to await
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def app_with(settings: Settings, servers: Servers, **urls: str) -> AsyncIterator[Any]:
    """The app built from `settings` (and `database_url`/`redis_url` overrides), started."""
    app = create_app(
        settings=settings,
        database_url=urls.get("database_url", servers.database_url),
        redis_url=urls.get("redis_url", servers.redis_url),
        jwt_secret=JWT_SECRET,
    )
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_for(
    settings: Settings, servers: Servers, **urls: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of `app_with(...)`, in process."""
    async with app_with(settings, servers, **urls) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@asynccontextmanager
async def inserts_fail(
    servers: Servers, org_id: uuid.UUID, table: str, when: str = "true"
) -> AsyncIterator[None]:
    """Postgres refuses to insert `org_id`'s rows of `table` (those matching the SQL
    condition `when`, over NEW): a failure inside a service after every check has passed, as
    a bug, a broken constraint or a full disk would be. Raises 'injected fault' (P0001)."""
    conn = await asyncpg.connect(servers.database_url.replace("+asyncpg", ""))
    name = f"fault_{table}_{org_id.hex}"
    await conn.execute(
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.org_id = '{org_id}' AND ({when}) THEN RAISE EXCEPTION 'injected fault'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();"""
    )
    try:
        yield
    finally:
        await conn.execute(f"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();")
        await conn.close()


@asynccontextmanager
async def job_pool(redis_url: str, queue: str | None = None) -> AsyncIterator[ArqRedis]:
    """An arq pool as the app's (JSON job arguments), on `queue` (default: arq's own)."""
    pool = await create_pool(
        RedisSettings.from_dsn(redis_url),
        default_queue_name=queue or default_queue_name,
        job_serializer=WorkerSettings.job_serializer,
        job_deserializer=WorkerSettings.job_deserializer,
    )
    try:
        yield pool
    finally:
        await pool.aclose()


async def run_worker(
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
    *calls: Any,
    redis_url: str | None = None,
    crons: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Worker:
    """A real arq worker, with the worker's own start-up and shut-down and configured from
    the environment as `schoolgraph worker` is, run until its queue is empty: the `calls`
    (function name, args...) and the worker's `crons` (their names, e.g.
    "cron:sweep_webhooks", run at its start). On a queue of its own, unless `redis_url`
    (a Valkey of the test's own) is given: then on arq's default queue there."""
    url = redis_url or servers.redis_url
    for name, value in {
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": url,
        "JWT_SECRET": JWT_SECRET,
        **(env or {}),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    queue = default_queue_name if redis_url else "test-worker:" + uuid.uuid4().hex
    try:
        async with job_pool(url, queue) as pool:
            for function, *args in calls:
                await pool.enqueue_job(function, *args)
        worker = Worker(
            functions=WorkerSettings.functions,
            cron_jobs=[c for c in WorkerSettings.cron_jobs if c.name in crons],
            on_startup=WorkerSettings.on_startup,
            on_shutdown=WorkerSettings.on_shutdown,
            redis_settings=RedisSettings.from_dsn(url),
            queue_name=queue,
            burst=True,
            job_serializer=WorkerSettings.job_serializer,
            job_deserializer=WorkerSettings.job_deserializer,
            handle_signals=False,
            poll_delay=0.05,
        )
        try:
            await asyncio.wait_for(worker.async_run(), 120)
            assert worker.jobs_failed == 0
        finally:
            # What Worker.close() would do, but its pool.close() is deprecated in redis-py.
            await WorkerSettings.on_shutdown(worker.ctx)
            await worker.pool.aclose()
        return worker
    finally:
        get_settings.cache_clear()


class LiveServer:
    """`app` served by uvicorn on one loopback port, to stop and start again on the same port
    (the app's lifespan left to the caller)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning"
            )
        )
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(500):  # uvicorn offers no "started" event to await
            if self._server.started:
                return
            await asyncio.sleep(0.02)
        raise RuntimeError("uvicorn did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None

    async def __aenter__(self) -> LiveServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
