"""Alembic environment (async). The database URL comes from the caller (app.migrate),
else DATABASE_URL, else the embedded servers of DATA_DIR (started if needed)."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.models
from app.config import get_settings, normalize_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = app.models.Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    if url:
        return normalize_database_url(str(url))
    from app.devservices import EmbeddedServices

    return EmbeddedServices(get_settings().data_dir).start().database_url


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, *_: object) -> bool:
    # Search's HNSW indexes are one per embedding model, made when a model is first used
    # (app.search.service.ensure_vector_index): not in the models' metadata.
    return not (type_ == "index" and (name or "").startswith("ix_documents_embedding_"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
