"""Fixtures: real Postgres and Valkey (embedded unless DATABASE_URL/REDIS_URL are set), the
migrated schema, the ASGI app over httpx, and a fresh organisation per test."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app import migrate
from app.auth.principal import Principal
from app.auth.tokens import issue
from app.config import Settings
from app.db import Database
from app.devservices import EmbeddedServices
from app.main import create_app
from app.orgs import service as orgs
from app.orgs.models import Role

JWT_SECRET = "test-secret-" + uuid.uuid4().hex
# The test client's own request lines (full URLs) are not the server's log.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Servers:
    database_url: str
    redis_url: str


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    db_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    embedded = None
    if not db_url or not redis_url:
        embedded = EmbeddedServices(Path(tempfile.mkdtemp(prefix="schoolgraph-test-"))).start()
        db_url = db_url or embedded.database_url
        redis_url = redis_url or embedded.redis_url
    try:
        migrate.upgrade(db_url)
        yield Servers(db_url, redis_url)
    finally:
        if embedded is not None:
            embedded.destroy()


@pytest.fixture
async def scratch_database_url(servers: Servers) -> AsyncIterator[str]:
    """An empty database of its own on the test server, dropped afterwards."""
    import asyncpg

    name = "scratch_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(servers.database_url.replace("+asyncpg", ""))
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield servers.database_url.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    # Webhook receivers in tests are local servers on 127.0.0.1.
    return Settings(
        database_url=None,
        redis_url=None,
        jwt_secret=JWT_SECRET,
        webhook_allow_private_urls=True,
    )


@pytest.fixture(scope="session")
async def db(servers: Servers, settings: Settings) -> AsyncIterator[Database]:
    database = Database.connect(settings, servers.database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def app(servers: Servers, settings: Settings) -> AsyncIterator[Any]:
    application = create_app(
        settings=settings,
        database_url=servers.database_url,
        redis_url=servers.redis_url,
        jwt_secret=JWT_SECRET,
    )
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class Org:
    id: uuid.UUID
    slug: str

    def principal(self, role: Role = Role.ADMIN, sub: str = "tester") -> Principal:
        return Principal(sub=sub, role=role, org_id=self.id, org_slug=self.slug)

    def token(self, role: Role = Role.ADMIN, sub: str = "tester") -> str:
        return issue(JWT_SECRET, sub=sub, org=self.slug, role=role)


async def make_org(db: Database, settings: dict[str, Any] | None = None) -> Org:
    slug = "t-" + uuid.uuid4().hex[:12]
    async with db.admin_transaction() as session:
        org = await orgs.create_org(session, slug=slug, name=slug, settings=settings)
    return Org(org.id, slug)


@pytest.fixture
async def org(db: Database) -> Org:
    return await make_org(db)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(self, query: str, variables: dict[str, Any] | None, token: str | None):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def gql(app: Any) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield GraphQLClient(http)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def heard(self, statement: str) -> None:
        self.statements.append(statement)

    @property
    def data_statements(self) -> list[str]:
        return [s for s in self.statements if "set_config" not in s]


@pytest.fixture
def count_statements(app: Any) -> Iterator[StatementCounter]:
    with counting_statements(app.state.services.db) as counter:
        yield counter


@contextlib.contextmanager
def counting_statements(db: Any) -> Iterator[StatementCounter]:
    """Every statement `db` sends: the ORM's engine's and the compiled read path's."""
    engine = db.engine.sync_engine
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    db.read_listeners.append(counter.heard)
    try:
        yield counter
    finally:
        db.read_listeners.remove(counter.heard)
        event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted as the server formats it (text)."""
    from app.logs import TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
