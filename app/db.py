"""Database plumbing: declarative base, engine, and org-scoped transactions.

Every transaction the app runs switches to the non-owning application role and sets the
current organisation (`app.org_id`), so PostgreSQL row-level security is a second wall behind
the `org_id` filters every service applies.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from app.config import Settings, normalize_database_url

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


class Database:
    """The engine and the one way to open a transaction scoped to an organisation."""

    def __init__(self, engine: AsyncEngine, app_role: str, statement_timeout_ms: int = 0) -> None:
        self.engine = engine
        self.app_role = app_role
        self.statement_timeout = str(statement_timeout_ms)  # 0: no limit
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def connect(cls, settings: Settings, database_url: str) -> Database:
        """The app's database as the settings describe it (pool, role, statement timeout)."""
        return cls(
            create_engine(settings, database_url),
            settings.db_app_role,
            settings.db_statement_timeout_ms,
        )

    @asynccontextmanager
    async def transaction(self, org_id: uuid.UUID | None) -> AsyncIterator[AsyncSession]:
        """One transaction as the application role, seeing only `org_id`'s rows.

        Commits when the block ends normally, rolls back on an exception.
        """
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                _SET_SCOPE,
                {
                    "role": self.app_role,
                    "org_id": str(org_id) if org_id else "",
                    "timeout": self.statement_timeout,
                },
            )
            yield session

    @asynccontextmanager
    async def admin_transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction as the connecting (owner) role: org lookup, CLI org creation, seeding."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
