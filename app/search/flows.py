"""Search's step after other domains' commits: what a transaction wrote about students
(incidents, support notes, interventions: their events say so) is queued for indexing,
by id, once the commit is through. Registered on the API's and the worker's Database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.db import Database
from app.events.service import WRITTEN, Topic, Written

# The topics of changes that can change what is written about a student.
TEXT_TOPICS = frozenset(
    {
        Topic.INCIDENT_LOGGED.value,
        Topic.INCIDENT_UPDATED.value,
        Topic.STUDENT_CHANGED.value,
        Topic.INTERVENTION_CHANGED.value,
    }
)

Enqueue = Callable[..., Awaitable[bool]]


class IndexAfterCommit:
    """One `index_students` job per org for the text its commits wrote, gathered over
    `delay` seconds: a burst of logged incidents queues one job, not one per tap (arq's
    enqueue is three round trips to Redis). The job's id is the org's latest transaction id
    in the batch, so the same commit never queues twice. A job the queue cannot take, or a
    batch lost with the process, is left to the sweep: the documents' staleness is read
    from Postgres."""

    def __init__(self, enqueue: Enqueue, *, delay: float = 0.25) -> None:
        self.enqueue = enqueue
        self.delay = delay
        self._students: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._txid: dict[uuid.UUID, int] = {}
        self._flush: asyncio.Task[None] | None = None
        self._now = asyncio.Event()  # set by settle: stop gathering, queue what is there

    async def __call__(self, info: dict[Any, Any]) -> None:
        written: list[Written] | None = info.get(WRITTEN)
        if not written:
            return
        for event in written:
            if event.topic in TEXT_TOPICS and event.student_id is not None:
                self._students.setdefault(event.org_id, set()).add(event.student_id)
                self._txid[event.org_id] = max(self._txid.get(event.org_id, 0), event.position.txid)
        if self._students and (self._flush is None or self._flush.done()):
            self._flush = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        # Until nothing is left: text written while a batch was being queued (this task not
        # yet done, so no commit started another) is the next batch.
        while self._students:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._now.wait(), self.delay)
            await self._queue()

    async def _queue(self) -> None:
        students, self._students = self._students, {}
        txid, self._txid = self._txid, {}
        for org_id, ids in students.items():
            await self.enqueue(
                "index_students",
                str(org_id),
                sorted(str(i) for i in ids),
                job_id=f"search:{org_id}:{txid[org_id]}",
            )

    async def settle(self) -> None:
        """Queue what is gathered now (shutdown, tests), without waiting out the delay."""
        self._now.set()
        try:
            if self._flush is not None:
                await self._flush
            await self._queue()
        finally:
            self._now.clear()


def index_after_commit(db: Database, enqueue: Enqueue) -> None:
    """Queue indexing after `db`'s commits. Runs before the live publisher, which takes the
    events it publishes out of the transaction's info."""
    db.after_commit.insert(0, IndexAfterCommit(enqueue))
