from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.db import Database
from app.events.live import LiveHub
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


async def following(hub: LiveHub, org_id: uuid.UUID, subscribers: int = 1) -> None:
    """Until the org's feed has started (its channels listened to, its position read) with
    `subscribers` followers: what commits after this is theirs."""
    for _ in range(500):
        feeds = [f for (o, _s), f in hub.feeds.items() if o == org_id]
        started = feeds and all(f.started.done() for f in feeds)
        if started and sum(len(f.followers) for f in feeds) >= subscribers:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription never joined its feed")
