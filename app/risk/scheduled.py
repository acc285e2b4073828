"""Risk that stays true with time alone.

A student's risk is recomputed whenever one of its inputs changes; but the behaviour window
also slides: three negatives that were inside the last 7 days age out of it without anything
being written. The sweep recomputes, org by org, every student whose window has changed since
their risk was last computed (a negative aged out of it, or a future-dated one came into it),
every student whose risk is older than the start of the org's local day (so every student is
re-evaluated at least daily, in the org's time zone), and every student never evaluated.
History rows are still written only on change (risk.recompute).

Rows being changed right now (an incident being logged for that student) are skipped: their
own transaction recomputes their risk, and the next sweep sees them again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import system_principal
from app.db import Database
from app.logs import log_internal
from app.orgs import service as orgs
from app.orgs.models import Org
from app.orgs.policy import OrgPolicy, local_midnight
from app.risk import service as risk
from app.students.models import Student

BATCH = 500

_DUE = text(
    """SELECT s.id FROM students s
    WHERE s.org_id = :org_id AND (
        s.risk_computed_at IS NULL
        OR s.risk_computed_at < CAST(:midnight AS timestamptz)
        OR EXISTS (
            SELECT 1 FROM incidents i
            WHERE i.org_id = s.org_id AND i.student_id = s.id AND i.kind = 'NEGATIVE'
              AND i.occurred_at > s.risk_computed_at - CAST(:window AS interval)
              AND (i.occurred_at <= CAST(:now AS timestamptz) - CAST(:window AS interval)
                   OR (i.occurred_at > s.risk_computed_at
                       AND i.occurred_at <= CAST(:now AS timestamptz)))))
    ORDER BY s.id"""
)


@dataclass
class SweepResult:
    org_slug: str
    evaluated: int = 0
    changed: int = 0  # history rows written: tier or contributing factors changed
    skipped: int = 0  # locked by a concurrent change, left for the next sweep
    error_id: str | None = None  # the org's sweep failed: the log has the detail

    def add(self, other: SweepResult) -> None:
        self.evaluated += other.evaluated
        self.changed += other.changed
        self.skipped += other.skipped


async def due_students(
    session: AsyncSession, *, org_id: uuid.UUID, policy: OrgPolicy, now: datetime
) -> list[uuid.UUID]:
    """Students whose risk may have changed with time alone since it was computed."""
    rows = await session.execute(
        _DUE,
        {
            "org_id": org_id,
            "midnight": local_midnight(policy, now),
            "window": timedelta(days=policy.risk.behaviour_window_days),
            "now": now,
        },
    )
    return list(rows.scalars())


async def _recompute_batch(
    db: Database, org: Org, ids: list[uuid.UUID], trigger: str, at: datetime | None
) -> SweepResult:
    """One batch in its own transaction. The time and the policy are read after the rows are
    locked: an incident committed, or a threshold changed, since the sweep began is seen, so
    a batch never writes an older picture over a newer one."""
    result = SweepResult(org.slug)
    actor = system_principal(org.id, org.slug, sub="risk-sweep")
    async with db.transaction(org.id) as session:
        locked = list(
            (
                await session.execute(
                    select(Student.id)
                    .where(Student.org_id == org.id, Student.id.in_(ids))
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
        )
        now = at or datetime.now(UTC)
        policy = await orgs.get_policy(session, org_id=org.id)
        changes = await risk.recompute(
            session, actor=actor, student_ids=locked, trigger=trigger, now=now, policy=policy
        )
    result.evaluated = len(changes)
    result.changed = sum(1 for c in changes if c.history_written)
    result.skipped = len(ids) - len(locked)
    return result


async def recompute_org(
    db: Database, org: Org, *, now: datetime | None = None, everyone: bool = False
) -> SweepResult:
    """Recompute the org's students that are due (or `everyone`), in batches of BATCH, each
    batch its own short transaction. `now` fixes the clock (tests, replays); by default each
    batch reads it when it starts."""
    async with db.transaction(org.id) as session:
        if everyone:
            ids = list(
                (
                    await session.execute(
                        select(Student.id).where(Student.org_id == org.id).order_by(Student.id)
                    )
                ).scalars()
            )
        else:
            policy = await orgs.get_policy(session, org_id=org.id)
            ids = await due_students(
                session, org_id=org.id, policy=policy, now=now or datetime.now(UTC)
            )
    total = SweepResult(org.slug)
    trigger = "recompute" if everyone else "schedule"
    for start in range(0, len(ids), BATCH):
        total.add(await _recompute_batch(db, org, ids[start : start + BATCH], trigger, now))
    return total


async def sweep(
    db: Database,
    *,
    org_slug: str | None = None,
    now: datetime | None = None,
    everyone: bool = False,
) -> list[SweepResult]:
    """Recompute due students of every org (or of `org_slug`). An org that fails is logged,
    answered with its error id, and the sweep goes on with the next one."""
    async with db.admin_transaction() as session:
        stmt = select(Org).order_by(Org.slug)
        if org_slug is not None:
            stmt = stmt.where(Org.slug == org_slug)
        all_orgs = list((await session.execute(stmt)).scalars())
    results = []
    for org in all_orgs:
        try:
            results.append(await recompute_org(db, org, now=now, everyone=everyone))
        except Exception as exc:
            error_id = log_internal(exc, where=f"risk sweep of {org.slug}")
            results.append(SweepResult(org.slug, error_id=error_id))
    return results
