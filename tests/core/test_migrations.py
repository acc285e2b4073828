"""The models and the migrations agree, and the history upgrades and downgrades cleanly."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory

from app import migrate
from tests.conftest import Servers


def test_history_is_linear(servers: Servers) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(servers.database_url))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


async def test_models_match_migrations(servers: Servers) -> None:
    # Raises when autogenerate would produce operations: a model changed without a migration.
    await asyncio.to_thread(command.check, migrate.alembic_config(servers.database_url))


async def test_upgrade_downgrade_upgrade(scratch_database_url: str) -> None:
    config = migrate.alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.downgrade, config, "base")
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await asyncio.to_thread(migrate.is_current, scratch_database_url)
