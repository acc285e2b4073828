"""Erasing a student: every row that holds their data (app.records.footprint), in one
transaction, leaving a tombstone without personal data; then, after commit, a job removes
the generated files that were about them from disk and verifies that no trace is left
(the tombstone goes from ERASED to VERIFIED).

Undelivered webhook deliveries that carry the student are deleted with the rest, so they
are never sent; the search index's entries go with their documents (HNSW and GIN entries
of deleted rows are never returned, and vacuum removes them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.config import Settings
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError, Validator
from app.db import Database
from app.records import files
from app.records.footprint import HOLDINGS, params
from app.records.models import Erasure, ErasureStatus
from app.students import service as students


async def erase(
    session: AsyncSession, *, actor: Principal, student_id: uuid.UUID, reason: str
) -> Erasure:
    v = Validator()
    cleaned = v.text("reason", reason, max_length=C.Reason.length, required=True)
    v.raise_if_any()
    assert cleaned is not None
    # Locked first: a write racing the erasure (an incident logged now) waits, then finds
    # no student.
    student = await students.require(session, org_id=actor.org_id, student_id=student_id, lock=True)
    # The tombstone keeps the reason: it must not name whom it is about.
    folded = cleaned.casefold()
    for needle in (student.name, student.external_id, str(student.id)):
        if needle and needle.casefold() in folded:
            raise ServiceError.single(
                "reason",
                "the reason is kept after the erasure: leave out the student's name and ids",
                ErrorCode.INVALID,
            )
    bound = {"org": actor.org_id, **params(student.id, student.external_id, student.name)}
    # The generated files about them (or a caseload's that includes them), by the same
    # condition that deletes their rows: removed from disk after commit.
    files_held = next(h for h in HOLDINGS if h.table == "generated_files")
    # Locked: a job storing one of them now waits, then finds its row gone and removes
    # its file itself (files.store).
    paths = [
        p
        for (p,) in await session.execute(
            text(
                "SELECT t.path FROM generated_files AS t WHERE t.org_id = :org"
                f" AND ({files_held.where}) FOR UPDATE"
            ),
            bound,
        )
        if p is not None
    ]
    counts: dict[str, int] = {}
    for holding in HOLDINGS:
        if holding.delete is None:
            result = await session.execute(
                text(
                    f"DELETE FROM {holding.table} AS t WHERE t.org_id = :org AND ({holding.where})"
                ),
                bound,
            )
            counts[holding.table] = int(result.rowcount)  # type: ignore[attr-defined]
    # Last, once the student is gone: the audit log's entries (its function checks that).
    for holding in HOLDINGS:
        if holding.delete is not None:
            counts[holding.table] = int(await session.scalar(text(holding.delete), bound) or 0)
    session.expunge(student)
    tombstone = Erasure(
        org_id=actor.org_id,
        actor_sub=actor.sub,
        actor_role=actor.role.value,
        reason=cleaned,
        counts=counts,
        status=ErasureStatus.ERASED,
        pending_files=paths,
    )
    session.add(tombstone)
    await audit.record(session, actor=actor, action="student.erase", entity=tombstone, before=None)
    return tombstone


async def finish(
    db: Database, settings: Settings, org_id: uuid.UUID, erasure_id: uuid.UUID
) -> bool:
    """After commit: remove the erased student's generated files; VERIFIED when none is
    left on disk. False when some could not be removed (the sweep tries again)."""
    async with db.transaction(org_id) as session:
        row = await session.get(Erasure, erasure_id, with_for_update=True)
        if row is None:
            raise ServiceError.single("id", "no such erasure", ErrorCode.NOT_FOUND)
        if row.status is ErasureStatus.VERIFIED:
            return True
        left = files.remove(settings, list(row.pending_files))
        if left:
            row.pending_files = left
            return False
        row.pending_files = []
        row.status = ErasureStatus.VERIFIED
        row.verified_at = datetime.now(UTC)
        return True


async def unverified(db: Database) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(org, erasure) of every erasure whose files are not yet verified gone (every org)."""
    async with db.admin_transaction() as session:
        rows = await session.execute(
            select(Erasure.org_id, Erasure.id).where(Erasure.status == ErasureStatus.ERASED)
        )
        return [(o, e) for o, e in rows]
