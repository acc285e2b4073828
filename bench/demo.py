"""What every benchmark starts from: its own embedded servers, migrated, with the demo school
seeded, a token for it, and the environment a `schoolgraph serve` subprocess needs."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

from app import migrate
from app.auth.tokens import issue
from app.config import Settings
from app.db import Database
from app.devservices import EmbeddedServices
from app.orgs import service as orgs
from app.orgs.models import Org, Role
from app.seed import seed_demo

SECRET = "bench-secret-" + uuid.uuid4().hex


@dataclass
class Demo:
    services: EmbeddedServices
    settings: Settings
    db: Database
    org: Org
    token: str

    @property
    def dsn(self) -> str:
        """The database for raw asyncpg (no SQLAlchemy dialect in the scheme)."""
        return self.services.database_url.replace("+asyncpg", "")

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.services.database_url,
            "REDIS_URL": self.services.redis_url,
            "JWT_SECRET": SECRET,
            **extra,
        }


@asynccontextmanager
async def demo_school() -> AsyncIterator[Demo]:
    services = EmbeddedServices(Path(tempfile.mkdtemp(prefix="schoolgraph-bench-"))).start()
    db = None
    try:
        await asyncio.to_thread(migrate.upgrade, services.database_url)
        settings = Settings(jwt_secret=SECRET)
        db = Database.connect(settings, services.database_url)
        await seed_demo(db, slug="demo")
        # Statistics, as a live database has them: without them every contender runs on the
        # planner's guesses until autovacuum happens to analyze the fresh tables, which in one
        # run came between the compiled path's turn and the floors' and PostGraphile's (the
        # class view measured 650 req/s before it, 1,290 after).
        async with db.admin_transaction() as session:
            await session.execute(text("ANALYZE"))
        async with db.admin_transaction() as session:
            org = await orgs.get_by_slug(session, slug="demo")
        assert org is not None
        token = issue(SECRET, sub="bench", org="demo", role=Role.ADMIN)
        yield Demo(services, settings, db, org, token)
    finally:
        if db is not None:
            await db.dispose()
        services.destroy()


async def wait_healthy(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(400):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the API did not become healthy")


class Server:
    def __init__(self, args: list[str], env: dict[str, str], port: int) -> None:
        self.args, self.env, self.port = args, env, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Server:
        self.process = await asyncio.create_subprocess_exec(
            *self.args,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        await wait_healthy(self.url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def api_server(
    demo: Demo, port: int, *, compiled: bool = True, workers: int = 1, **env_extra: str
) -> Server:
    env = demo.env(LOG_LEVEL="WARNING", COMPILED_READS="true" if compiled else "false", **env_extra)
    args = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    return Server([*args, "--workers", str(workers)], env, port)
