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
import uvicorn

from app.config import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET, Servers


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
