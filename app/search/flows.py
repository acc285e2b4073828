"""Search's step after other domains' commits: what a transaction wrote about students
(incidents, support notes, interventions: their events say so) is queued for indexing,
by id, once the commit is through. Registered on the API's and the worker's Database."""

from __future__ import annotations

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
    """One `index_students` job per org a commit wrote text of (under the commit's
    transaction id: the same commit never queues twice). A job the queue cannot take is
    left to the sweep."""

    def __init__(self, enqueue: Enqueue) -> None:
        self.enqueue = enqueue

    async def __call__(self, info: dict[Any, Any]) -> None:
        written: list[Written] | None = info.get(WRITTEN)
        if not written:
            return
        students: dict[uuid.UUID, set[uuid.UUID]] = {}
        txid: dict[uuid.UUID, int] = {}
        for event in written:
            if event.topic in TEXT_TOPICS and event.student_id is not None:
                students.setdefault(event.org_id, set()).add(event.student_id)
                txid[event.org_id] = event.position.txid
        for org_id, ids in students.items():
            await self.enqueue(
                "index_students",
                str(org_id),
                sorted(str(i) for i in ids),
                job_id=f"search:{org_id}:{txid[org_id]}",
            )


def index_after_commit(db: Database, enqueue: Enqueue) -> None:
    """Queue indexing after `db`'s commits. Runs before the live publisher, which takes the
    events it publishes out of the transaction's info."""
    db.after_commit.insert(0, IndexAfterCommit(enqueue))
