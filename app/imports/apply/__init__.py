"""One batch of an import's records, applied through the domains' own services (one rule,
one place): the business rules and student mapping layers, duplicates (the later row of a
key wins; the other is reported), and unchanged rows skipped without a write.

Each kind returns what happened to each row and what it changed (the values an update
replaced, so the import can be rolled back). Risk is recomputed once per affected student
at the end of the batch, by the flows it calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.imports.apply.attendance import attendance_days
from app.imports.apply.common import Change, Header, Keys, Outcome, latest_of
from app.imports.apply.diagnostics import diagnostics
from app.imports.apply.incidents import historical_incidents, incident_client_id
from app.imports.apply.roster import roster
from app.imports.kinds import ImportKind
from app.imports.models import ImportJob

__all__ = ["Change", "Header", "Keys", "Outcome", "apply", "incident_client_id", "latest_of"]


async def apply(
    session: AsyncSession,
    *,
    actor: Principal,
    job: ImportJob,
    records: Sequence[Any],
    seen: Keys,
    header: Header,
) -> Outcome:
    if not records:
        return Outcome()
    if job.kind is ImportKind.ROSTER:
        return await roster(session, actor=actor, records=records, seen=seen, header=header)
    if job.kind is ImportKind.ATTENDANCE:
        return await attendance_days(
            session, actor=actor, records=records, seen=seen, header=header
        )
    if job.kind is ImportKind.IREADY:
        return await diagnostics(session, actor=actor, records=records, seen=seen, header=header)
    return await historical_incidents(
        session, actor=actor, records=records, seen=seen, header=header
    )
