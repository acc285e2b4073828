"""Database plumbing: declarative base, engine, and org-scoped transactions.

Every transaction the app runs switches to the non-owning application role and sets the
current organisation (`app.org_id`), so PostgreSQL row-level security is a second wall behind
the `org_id` filters every service applies.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import DateTime, MetaData, event, func, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from app.config import Settings, normalize_database_url
from app.metrics import DB_STATEMENTS

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    # Fetch server-side values (now() on insert and update) with RETURNING, so that nothing
    # is left expired for an implicit lazy load, which async sessions cannot do.
    __mapper_args__ = {"eager_defaults": True}

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


# One round trip: the role (RLS), the org, and the statement timeout, all local to the
# transaction.
_SET_SCOPE = text(
    "SELECT set_config('role', :role, true), set_config('app.org_id', :org_id, true),"
    " set_config('statement_timeout', :timeout, true)"
)


def create_engine(settings: Settings, database_url: str) -> AsyncEngine:
    database_url = normalize_database_url(database_url)
    # Bound parameters are student names and note text: never in an exception's message,
    # and so never in a log line.
    if settings.db_null_pool:
        return create_async_engine(
            database_url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={"timeout": settings.db_connect_timeout},
        )
    return create_async_engine(
        database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"timeout": settings.db_connect_timeout},
    )


ACQUIRE_TIMEOUT = 30.0
# Options of SQLAlchemy's asyncpg dialect that may ride on DATABASE_URL: not for asyncpg's
# own DSN parser, which would send them to the server as settings.
_DIALECT_OPTIONS = frozenset({"prepared_statement_cache_size", "prepared_statement_name_func"})


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """A read connection goes back to the pool as it is: its reads set nothing beyond their
    transaction (asyncpg still rolls back one left open), so the default reset (RESET ALL,
    CLOSE ALL, UNLISTEN *: one more round trip per read) has nothing to undo."""


class ReadPool:
    """Plain asyncpg connections for compiled reads (app.graphql.compiled): one statement
    that Postgres answers with JSON text, run in three round trips and little Python — the
    scope opens the transaction read-only in the same message as `set_config` (the same
    role, org and statement timeout as `Database.transaction`), then the statement with its
    bound parameters (prepared once per connection by asyncpg's statement cache), then
    COMMIT. An ORM session costs about a millisecond of CPU more per read on this path,
    which is most of what the statement itself costs.

    Opened on first use (inside the running loop), at most `size` connections; with
    `null_pool`, a connection per read, as the engine's NullPool."""

    def __init__(self, dsn: str, size: int, connect_timeout: float, null_pool: bool) -> None:
        self.dsn = dsn
        self.size = size
        self.connect_timeout = connect_timeout
        self.null_pool = null_pool
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=0,
                    max_size=self.size,
                    timeout=self.connect_timeout,
                    reset=_keep_session,
                )
            return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection | PoolConnectionProxy]:
        if self.null_pool:
            connection = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
            try:
                yield connection
            finally:
                await connection.close()
            return
        pool = self._pool or await self._get_pool()
        # As long as the engine's pool waits for a connection (SQLAlchemy's pool_timeout).
        async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as proxy:
            yield proxy

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def asyncpg_dsn(database_url: str) -> str:
    """The URL as asyncpg's own DSN parser takes it: what `normalize_database_url` accepts,
    without SQLAlchemy's dialect in the scheme and with libpq's `sslmode` (which the
    dialect's `ssl` stands for)."""
    parts = urlsplit(normalize_database_url(database_url))
    query = [
        ("sslmode" if key == "ssl" else key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key not in _DIALECT_OPTIONS
    ]
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), parts.fragment))


class Database:
    """The engine and the one way to open a transaction scoped to an organisation."""

    def __init__(
        self,
        engine: AsyncEngine,
        app_role: str,
        statement_timeout_ms: int = 0,
        reads: ReadPool | None = None,
    ) -> None:
        self.engine = engine
        self.app_role = app_role
        self.statement_timeout = str(statement_timeout_ms)  # 0: no limit
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.reads = reads
        # Called with each statement the read path sends (tests count them, as they count
        # the engine's with SQLAlchemy's before_cursor_execute).
        self.read_listeners: list[Callable[[str], None]] = []
        # Called with a committed transaction's session.info when it holds anything (the
        # live publisher takes the events the transaction wrote, app.events.live).
        self.after_commit: list[Callable[[dict[Any, Any]], Awaitable[None]]] = []
        orm_statements = DB_STATEMENTS.labels("orm")
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: orm_statements.inc())
        self._read_statements = DB_STATEMENTS.labels("read")

    @classmethod
    def connect(cls, settings: Settings, database_url: str) -> Database:
        """The app's database as the settings describe it (pool, role, statement timeout)."""
        return cls(
            create_engine(settings, database_url),
            settings.db_app_role,
            settings.db_statement_timeout_ms,
            ReadPool(
                asyncpg_dsn(database_url),
                settings.db_pool_size,
                settings.db_connect_timeout,
                settings.db_null_pool,
            ),
        )

    def _read_scope(self, org_id: uuid.UUID) -> str:
        # The values are ours (a UUID, the configured role, a number), quoted as literals: a
        # simple-protocol message takes no parameters, and it is what puts BEGIN and the
        # scope in one round trip.
        return (
            "BEGIN READ ONLY; SELECT set_config('role', "
            f"{_literal(self.app_role)}, true), set_config('app.org_id', "
            f"{_literal(str(org_id))}, true), set_config('statement_timeout', "
            f"{_literal(self.statement_timeout)}, true)"
        )

    async def read(
        self, org_id: uuid.UUID, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[asyncpg.Record]]:
        """Rows of each read-only statement, run in one transaction scoped to `org_id` as
        `transaction` scopes it (role, org, statement timeout; RLS on)."""
        if self.reads is None:  # pragma: no cover - a Database built without one
            raise RuntimeError("this Database has no read pool")
        scope = self._read_scope(org_id)
        async with self.reads.connection() as connection:
            try:
                self._heard(scope)
                await connection.execute(scope)
                results = []
                for sql, values in statements:
                    self._heard(sql)
                    results.append(await connection.fetch(sql, *values))
            except BaseException:
                if not connection.is_closed():
                    await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")
            return results

    def _heard(self, sql: str) -> None:
        self._read_statements.inc()
        for listener in self.read_listeners:
            listener(sql)

    @asynccontextmanager
    async def transaction(self, org_id: uuid.UUID | None) -> AsyncIterator[AsyncSession]:
        """One transaction as the application role, seeing only `org_id`'s rows.

        Commits when the block ends normally, rolls back on an exception.
        """
        async with self.sessionmaker() as session:
            async with session.begin():
                await session.execute(
                    _SET_SCOPE,
                    {
                        "role": self.app_role,
                        "org_id": str(org_id) if org_id else "",
                        "timeout": self.statement_timeout,
                    },
                )
                yield session
            await self._committed(session)

    @asynccontextmanager
    async def admin_transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the connecting (owner) role: org lookup, CLI org creation, seeding."""
        async with self.sessionmaker() as session:
            async with session.begin():
                yield session
            await self._committed(session)

    async def _committed(self, session: AsyncSession) -> None:
        # What a transaction left for after its commit (session.info: the events it wrote,
        # to broadcast); a hook's failure is its own to report, never the caller's.
        if session.info:
            for hook in self.after_commit:
                await hook(session.info)

    async def dispose(self) -> None:
        if self.reads is not None:
            await self.reads.close()
        await self.engine.dispose()
