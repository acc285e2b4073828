"""Retention: what each org keeps no longer than its policy allows (OrgPolicy.retention).

One list of rules, read both ways: `plan` counts what is past retention (the dry run), and
`apply` deletes exactly that, in batches of `BATCH` rows per transaction so that a first
run over years of data never holds long locks, then audits the counts. Both take the same
`now`, so a dry run and the real run at the same instant agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.db import Database
from app.orgs.models import Org, Role
from app.orgs.policy import OrgPolicy, RetentionPolicy, local_today, policy_from_settings

BATCH = 5_000


@dataclass(frozen=True)
class Rule:
    table: str
    column: str  # compared with the cutoff
    setting: str  # the RetentionPolicy field
    unit: str  # "years" or "days"
    what: str
    # Deletes one batch and returns the count, when not a plain DELETE (the audit log is
    # append-only for the application: migration 0014's function).
    purge: str | None = None


RULES = (
    Rule("incidents", "occurred_at", "incidents_years", "years", "incidents (and their documents)"),
    # What other tools sent or were sent about incidents goes with the incidents.
    Rule(
        "webhook_deliveries",
        "created_at",
        "incidents_years",
        "years",
        "webhook deliveries (and their attempts)",
    ),
    Rule("inbound_webhooks", "received_at", "incidents_years", "years", "inbound webhooks"),
    Rule("attendance_days", "day", "attendance_years", "years", "attendance days"),
    Rule(
        "audit_log",
        "at",
        "audit_years",
        "years",
        "audit log entries",
        purge="SELECT purge_audit(:org, :cutoff, :batch)",
    ),
    Rule("events", "created_at", "events_days", "days", "events"),
)


@dataclass(frozen=True)
class Due:
    rule: Rule
    cutoff: datetime | date  # rows strictly older go
    rows: int


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def cutoffs(policy: OrgPolicy, now: datetime) -> list[tuple[Rule, datetime | date]]:
    """Each rule the policy sets, with its cutoff: years count from the org's today."""
    keep: RetentionPolicy = policy.retention
    today = local_today(policy, now)
    out: list[tuple[Rule, datetime | date]] = []
    for rule in RULES:
        amount = getattr(keep, rule.setting)
        if amount is None:
            continue
        if rule.unit == "days":
            out.append((rule, now - timedelta(days=amount)))
        else:
            day = _years_before(today, amount)
            # The org's local midnight of that day (a date column compares with the date).
            cutoff: datetime | date = (
                day
                if rule.column == "day"
                else datetime.combine(day, time(0), tzinfo=ZoneInfo(policy.timezone))
            )
            out.append((rule, cutoff))
    return out


def _where(rule: Rule) -> str:
    return f"org_id = :org AND {rule.column} < :cutoff"


async def plan(
    session: AsyncSession, *, org_id: uuid.UUID, policy: OrgPolicy, now: datetime
) -> list[Due]:
    """What is past retention now (counts; nothing is deleted)."""
    out = []
    for rule, cutoff in cutoffs(policy, now):
        rows = await session.scalar(
            text(f"SELECT count(*) FROM {rule.table} WHERE {_where(rule)}"),
            {"org": org_id, "cutoff": cutoff},
        )
        out.append(Due(rule, cutoff, int(rows or 0)))
    return out


async def apply(db: Database, *, org_id: uuid.UUID, now: datetime, batch: int = BATCH) -> list[Due]:
    """Delete what is past retention, `batch` rows a transaction; audit the counts."""
    async with db.transaction(org_id) as session:
        org = await session.get(Org, org_id)
        assert org is not None
        policy = policy_from_settings(org.settings)
    done: list[Due] = []
    for rule, cutoff in cutoffs(policy, now):
        deleted = 0
        while True:
            async with db.transaction(org_id) as session:
                bound = {"org": org_id, "cutoff": cutoff, "batch": batch}
                if rule.purge is not None:
                    count = int(await session.scalar(text(rule.purge), bound) or 0)
                else:
                    result = await session.execute(
                        text(
                            f"DELETE FROM {rule.table} WHERE ctid = ANY(ARRAY("
                            f"SELECT ctid FROM {rule.table} WHERE {_where(rule)} LIMIT :batch))"
                        ),
                        bound,
                    )
                    count = int(result.rowcount)  # type: ignore[attr-defined]
            deleted += count
            if count < batch:
                break
        done.append(Due(rule, cutoff, deleted))
    if done:
        async with db.transaction(org_id) as session:
            org = await session.get(Org, org_id)
            assert org is not None
            await audit.record(
                session,
                actor=system_actor(org_id, org.slug),
                action="retention.apply",
                entity=org,
                before=None,
                after={
                    "counts": {d.rule.table: d.rows for d in done},
                    "cutoffs": {d.rule.table: d.cutoff.isoformat() for d in done},
                },
            )
    return done


def system_actor(org_id: uuid.UUID, slug: str) -> Principal:
    """The actor of scheduled work, in the audit log."""
    return Principal(sub="system:retention", role=Role.ADMIN, org_id=org_id, org_slug=slug)


async def orgs_with_policy(
    db: Database, slug: str | None = None
) -> list[tuple[uuid.UUID, str, OrgPolicy]]:
    """Every org (or the one named) with its policy."""
    async with db.admin_transaction() as session:
        stmt = select(Org.id, Org.slug, Org.settings)
        if slug is not None:
            stmt = stmt.where(Org.slug == slug)
        rows = await session.execute(stmt.order_by(Org.slug))
        return [(oid, s, policy_from_settings(settings)) for oid, s, settings in rows]


def as_json(dues: list[Due]) -> list[dict[str, Any]]:
    return [
        {
            "table": d.rule.table,
            "what": d.rule.what,
            "olderThan": d.cutoff.isoformat(),
            "rows": d.rows,
        }
        for d in dues
    ]
