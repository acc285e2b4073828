"""Database plumbing: declarative base, engine, and org-scoped transactions.

Every transaction the app runs switches to the non-owning application role and sets the
current organisation (`app.org_id`), so PostgreSQL row-level security is a second wall behind
the `org_id` filters every service applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import DateTime, Enum, MetaData, event, func, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    make_transient_to_detached,
    mapped_column,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.pool import NullPool

from app.config import Settings, normalize_database_url
from app.metrics import DB_STATEMENTS

log = logging.getLogger(__name__)

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


class OrgSession(AsyncSession):
    """The sessions `Database` opens: an AsyncSession that also hears the statements sent
    through its driver connection (`driver_fetch` and friends), as the engine's listeners
    hear the ORM's (tests count both; so does the statements metric)."""

    heard: Callable[[str], None] | None = None
    # The driver connection of the transaction it was taken in (driver_connection).
    driver: tuple[object, asyncpg.Connection] | None = None


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction, for the hot paths' statements
    written by hand: a few tens of microseconds each, where the ORM's execute costs a few
    hundred. Pending ORM changes are flushed first, so that a statement sent here sees and
    follows them, as autoflush would. An OrgSession keeps it for the rest of its transaction
    (asking SQLAlchemy for it costs more than most statements sent on it)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    transaction = session.sync_session.get_transaction()
    held = session.driver if isinstance(session, OrgSession) else None
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    if not driver.is_in_transaction():
        # SQLAlchemy begins lazily, at its first statement: a driver statement first would
        # run on its own, committed at once. Database's sessions begin before anything runs.
        raise RuntimeError("driver statements need a transaction begun (Database.transaction)")
    if isinstance(session, OrgSession):
        session.driver = (session.sync_session.get_transaction(), driver)
    return driver


async def _driver_call(session: AsyncSession, method: str, sql: str, args: Sequence[Any]) -> Any:
    driver = await driver_connection(session)
    heard = getattr(session, "heard", None)
    if heard is not None:
        heard(sql)
    try:
        return await getattr(driver, method)(sql, *args)
    except asyncpg.PostgresError as exc:
        raise _as_sqlalchemy_error(session, exc, sql) from exc


def _as_sqlalchemy_error(session: AsyncSession, exc: Exception, sql: str) -> BaseException:
    """asyncpg's error as SQLAlchemy raises it for the same failure (IntegrityError for a
    unique violation, DBAPIError with the SQLSTATE on `.orig` for a timeout or a deadlock):
    callers catch one kind of error whichever way their statement went. Parameters are never
    in it (hide_parameters, as the engine)."""
    dialect = session.get_bind().dialect
    dbapi = dialect.loaded_dbapi
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, exc)
    except Exception as translated:
        return sa_exc.DBAPIError.instance(
            sql, None, translated, dbapi.Error, hide_parameters=True, dialect=dialect
        )
    return exc  # pragma: no cover - _handle_exception_no_connection always raises


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class DriverSql:
    """A statement written with `:name` parameters (as for `text()`), in asyncpg's `$n`
    form: `args` puts the values in order. Built once, at import."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, sql: str) -> DriverSql:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        return cls(_NAMED.sub(number, sql), tuple(names))

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


@asynccontextmanager
async def driver_savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint around driver statements: an error inside rolls back to it (and goes on
    up), leaving the transaction usable, as `session.begin_nested()` does for the ORM's."""
    await driver_execute(session, "SAVEPOINT driver_savepoint")
    try:
        yield
    except BaseException:
        await driver_execute(session, "ROLLBACK TO SAVEPOINT driver_savepoint")
        raise
    await driver_execute(session, "RELEASE SAVEPOINT driver_savepoint")


async def driver_fetch(session: AsyncSession, sql: str, *args: Any) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await _driver_call(session, "fetch", sql, args)
    return rows


async def driver_fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await _driver_call(session, "fetchrow", sql, args)
    return row


async def driver_execute(session: AsyncSession, sql: str, *args: Any) -> None:
    await _driver_call(session, "execute", sql, args)


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
    engine = create_async_engine(
        database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        hide_parameters=True,
        connect_args={"timeout": settings.db_connect_timeout},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_unusable)
    return engine


_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def _refuse_unusable(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout, a terminated
    backend: asyncpg marks it closed when the socket ends), or one left inside a transaction
    (a task cancelled before its COMMIT or ROLLBACK, see Database._explicit), is replaced
    before anything runs on it: the pool closes it and retries the checkout with a new one.
    Both checks read the connection's state, no round trip: in place of pool_pre_ping,
    which costs three (BEGIN, a ping, ROLLBACK) on every checkout, and so on every
    transaction."""
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise sa_exc.DisconnectionError("the server closed this connection")
    if driver.is_in_transaction():
        raise sa_exc.DisconnectionError("this connection was left inside a transaction")


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
        self.sessionmaker = async_sessionmaker(engine, class_=OrgSession, expire_on_commit=False)
        self.reads = reads
        # Called with each statement the read path sends (tests count them, as they count
        # the engine's with SQLAlchemy's before_cursor_execute).
        self.read_listeners: list[Callable[[str], None]] = []
        # Called with a committed transaction's session.info when it holds anything (the
        # live publisher takes the events the transaction wrote, app.events.live).
        self.after_commit: list[Callable[[dict[Any, Any]], Awaitable[None]]] = []
        self._after_commit_running: set[asyncio.Task[None]] = set()
        orm_statements = DB_STATEMENTS.labels("orm")
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: orm_statements.inc())
        self._read_statements = DB_STATEMENTS.labels("read")
        self._driver_statements = DB_STATEMENTS.labels("driver")

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

    def _scope(
        self, org_id: uuid.UUID | None, *, read_only: bool, generic_plans: bool = False
    ) -> str:
        """BEGIN, the role (RLS), the org and the statement timeout, all local to the
        transaction, in one simple-protocol message: one round trip. The values are ours (a
        UUID, the configured role, a number), quoted as literals: such a message takes no
        parameters. With `generic_plans`, the transaction's prepared statements run on their
        generic plans (see `transaction`)."""
        plans = ", set_config('plan_cache_mode', 'force_generic_plan', true)"
        return (
            f"BEGIN{' READ ONLY' if read_only else ''}; SELECT set_config('role', "
            f"{_literal(self.app_role)}, true), set_config('app.org_id', "
            f"{_literal(str(org_id) if org_id else '')}, true), set_config('statement_timeout', "
            f"{_literal(self.statement_timeout)}, true){plans if generic_plans else ''}"
        )

    async def read(
        self, org_id: uuid.UUID, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[asyncpg.Record]]:
        """Rows of each read-only statement, run in one transaction scoped to `org_id` as
        `transaction` scopes it (role, org, statement timeout; RLS on)."""
        if self.reads is None:  # pragma: no cover - a Database built without one
            raise RuntimeError("this Database has no read pool")
        scope = self._scope(org_id, read_only=True)
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

    def _heard_driver(self, sql: str) -> None:
        self._driver_statements.inc()
        for listener in self.read_listeners:
            listener(sql)

    def _session(self) -> OrgSession:
        session = self.sessionmaker()
        assert isinstance(session, OrgSession)
        session.heard = self._heard_driver
        return session

    @asynccontextmanager
    async def transaction(
        self, org_id: uuid.UUID | None, *, generic_plans: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """One transaction as the application role, seeing only `org_id`'s rows.

        Commits when the block ends normally, rolls back on an exception.

        `generic_plans` is for the journeys that write one thing at a time (a mutation, a
        webhook): their statements are planned once per connection, not at every run.
        Postgres's default keeps re-planning a prepared statement whose generic plan looks
        dearer than its custom ones, and every statement that takes its rows as an array
        (`unnest($1)`, estimated at 100 rows when the array is not known) looks so: the
        incident journey's event insert spent 0.8 ms of its 1 ms planning, its risk
        statements 0.4 ms. Their plans do not depend on the values (ids, one student's
        window), so nothing is lost. Reads and reports, whose filters and date ranges do
        choose plans, keep the default.
        """
        scope = self._scope(org_id, read_only=False, generic_plans=generic_plans)
        async with self._explicit(scope) as session:
            yield session
        await self._committed(session)

    @asynccontextmanager
    async def admin_transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the connecting (owner) role: org lookup, CLI org creation, seeding."""
        async with self._explicit("BEGIN") as session:
            yield session
        await self._committed(session)

    @asynccontextmanager
    async def _explicit(self, begin: str) -> AsyncIterator[OrgSession]:
        """A session whose transaction is begun and ended here, on its connection, rather
        than by SQLAlchemy: `begin` opens it and sets its scope in one round trip (SQLAlchemy
        would send BEGIN alone, then the scope: a round trip and a few hundred microseconds
        of CPU more, on every transaction). SQLAlchemy sees an AUTOCOMMIT connection, so its
        own BEGIN, COMMIT and ROLLBACK are no-ops; its statements, flushes and savepoints
        run inside this transaction like any other. Everything pending is flushed before
        COMMIT; a connection that would go back to the pool still in a transaction (the
        task cancelled mid-way) is refused at its next checkout (_refuse_unusable)."""
        session = self._session()
        try:
            # The session begins on its own (autobegin) and is closed, not committed: each
            # of SQLAlchemy's async steps is a greenlet switch, and this takes two.
            connection = await session.connection(execution_options=_AUTOCOMMIT)
            driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
            assert isinstance(driver, asyncpg.Connection)
            session.driver = (session.sync_session.get_transaction(), driver)
            if "set_config" in begin:
                self._heard_driver(begin)  # counted as the transaction's setup
            await driver.execute(begin)
            try:
                yield session
                if session.new or session.dirty or session.deleted:
                    await session.flush()
            except BaseException:
                with contextlib.suppress(Exception):
                    await driver.execute("ROLLBACK")
                raise
            try:
                await driver.execute("COMMIT")
            except asyncpg.PostgresError as exc:
                raise _as_sqlalchemy_error(session, exc, "COMMIT") from exc
        finally:
            await session.close()

    async def _committed(self, session: AsyncSession) -> None:
        """What a transaction left for after its commit (session.info: the events it wrote,
        to broadcast and index, the webhook deliveries it queued) runs in a task of its own:
        the caller's answer does not wait for Redis. Nothing durable rides on it — the
        events and deliveries are committed rows, and the live feeds, the search sweep and
        the webhook sweep read those — so it is only ever sooner, never more. `settle`
        waits for it (shutdown, tests)."""
        if session.info and self.after_commit:
            task = asyncio.get_running_loop().create_task(self._run_after_commit(session.info))
            self._after_commit_running.add(task)
            task.add_done_callback(self._after_commit_running.discard)

    async def _run_after_commit(self, info: dict[Any, Any]) -> None:
        for hook in self.after_commit:  # in order: search indexing reads the events first
            try:
                await hook(info)
            except Exception:  # a hook reports its own failures; this is the safety net
                log.exception("after-commit step %s failed", type(hook).__name__)

    async def settle(self) -> None:
        """Wait for the after-commit steps of every transaction committed so far, and have
        the steps that gather work over time (search indexing) do it now."""
        while self._after_commit_running:
            await asyncio.gather(*self._after_commit_running, return_exceptions=True)
        for hook in self.after_commit:
            settle = getattr(hook, "settle", None)
            if settle is not None:
                await settle()

    async def dispose(self) -> None:
        await self.settle()
        if self.reads is not None:
            await self.reads.close()
        await self.engine.dispose()


_T = TypeVar("_T", bound=Base)
_Converter = Callable[[Any], Any]


@lru_cache(maxsize=64)
def _columns_of(model: type[Base]) -> tuple[tuple[str, str, _Converter | None], ...]:
    """(attribute, column, how the driver's value becomes the ORM's) for every column."""
    out = []
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        convert: _Converter | None = None
        if isinstance(column.type, Enum) and column.type.enum_class is not None:
            convert = column.type.enum_class
        out.append((attr.key, column.name, convert))
    return tuple(out)


@lru_cache(maxsize=64)
def _primary_key(model: type[Base]) -> tuple[str, ...]:
    mapper = inspect(model)
    return tuple(mapper.get_property_by_column(column).key for column in mapper.primary_key)


@lru_cache(maxsize=64)
def _jsonb_keys(model: type[Base]) -> frozenset[str]:
    """Columns the engine's asyncpg codec decodes on the way out and takes as JSON text on
    the way in."""
    return frozenset(
        attr.key for attr in inspect(model).column_attrs if isinstance(attr.columns[0].type, JSONB)
    )


def loaded_from_driver(session: AsyncSession, model: type[_T], record: asyncpg.Record) -> _T:
    """The ORM instance of a row the driver read or returned (every column of `model`), in
    the session as if the ORM had loaded it: a later ORM read of the row gets this object,
    and a change to it is flushed as an UPDATE."""
    values = {
        key: (
            convert(record[name])
            if convert is not None and record[name] is not None
            else record[name]
        )
        for key, name, convert in _columns_of(model)
    }
    key = identity_key(model, tuple(values[k] for k in _primary_key(model)))
    held = session.identity_map.get(key)
    if held is not None:  # already in the session: brought up to date, no UPDATE pending
        for name, value in values.items():
            set_committed_value(held, name, value)
        return held
    # As the ORM's own loading does: the values go straight into the instance's state, not
    # through the constructor's attribute events (half the cost).
    instance = cast(_T, inspect(model).class_manager.new_instance())
    instance_state(instance).dict.update(values)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


@lru_cache(maxsize=64)
def _column_defaults(model: type[Base]) -> tuple[tuple[str, Any], ...]:
    """(attribute, default) for the columns with a scalar or callable (uuid4) default."""
    return tuple(
        (attr.key, attr.columns[0].default)
        for attr in inspect(model).column_attrs
        if attr.columns[0].default is not None
        and (attr.columns[0].default.is_scalar or attr.columns[0].default.is_callable)
    )


def _python_defaults(model: type[Base], given: Mapping[str, Any]) -> dict[str, Any]:
    """The column defaults the ORM would fill in for the columns not given; server defaults
    are left to the server."""
    return {
        key: default.arg if default.is_scalar else default.arg(None)
        for key, default in _column_defaults(model)
        if key not in given
    }


@lru_cache(maxsize=64)
def _insert_sql(model: type[Base], keys: tuple[str, ...]) -> str:
    columns = {key: name for key, name, _ in _columns_of(model)}
    table = model.__table__.name  # type: ignore[attr-defined]
    names = ", ".join(f'"{columns[k]}"' for k in keys)
    slots = ", ".join(f"${i}" for i in range(1, len(keys) + 1))
    return f'INSERT INTO "{table}" ({names}) VALUES ({slots}) RETURNING *'


async def driver_insert(session: AsyncSession, model: type[_T], values: Mapping[str, Any]) -> _T:
    """INSERT one row of `model` through the driver (the columns given; the others take their
    server defaults) and return it as a loaded ORM instance (`loaded_from_driver`). JSON
    values are sent as JSON text."""
    values = {**_python_defaults(model, values), **values}
    keys = tuple(values)
    jsonb = _jsonb_keys(model)
    args = [json.dumps(values[k]) if k in jsonb else values[k] for k in keys]
    record = await driver_fetchrow(session, _insert_sql(model, keys), *args)
    assert record is not None
    return loaded_from_driver(session, model, record)
