from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.db import Database
from tests.support import live_server


@pytest.fixture(scope="module")
async def ws_url(app: Any) -> AsyncIterator[str]:
    async with live_server(app) as port:
        yield f"ws://127.0.0.1:{port}/graphql"


@pytest.fixture
def app_db(app: Any) -> Database:
    """The app's own Database: its commits publish their events (the tests' `db` does not,
    so what it writes reaches subscribers only on the feeds' timer)."""
    db: Database = app.state.services.db
    return db
