"""After a commit that wrote webhook deliveries (the outbox), queue one job each. A job the
queue cannot take is left to the sweep: the outbox row is the truth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.db import Database
from app.events.service import DELIVERIES
from app.integrations.delivery import job_id

Enqueue = Callable[..., Awaitable[bool]]


class DeliverAfterCommit:
    def __init__(self, enqueue: Enqueue) -> None:
        self.enqueue = enqueue

    async def __call__(self, info: dict[Any, Any]) -> None:
        for delivery_id in sorted(info.pop(DELIVERIES, ())):
            await self.enqueue("deliver_webhook", str(delivery_id), job_id=job_id(delivery_id, 0))


def deliver_after_commit(db: Database, enqueue: Enqueue) -> None:
    db.after_commit.append(DeliverAfterCommit(enqueue))
