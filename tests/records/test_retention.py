"""Retention: what is past each org's policy goes, in batches, audited by counts; the dry
run counts exactly what the real run then deletes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.db import Database
from app.orgs import service as orgs
from app.orgs.models import Role
from app.records import retention
from tests.conftest import GraphQLClient, Org, Servers
from tests.core.test_cli import _cli
from tests.factories import log, make_student

POLICY = """mutation($r: RetentionPolicyInput!) { updateOrgPolicy(input: {retention: $r}) {
  policy { retention { incidentsYears attendanceYears auditYears eventsDays } }
  errors { field code } } }"""


async def _age(db: Database, org: Org, table: str, column: str, ids: list[Any], age: str) -> None:
    """Make rows old (as the owner: the audit log is append-only for the application)."""
    async with db.admin_transaction() as session:
        await session.execute(
            text(
                f"UPDATE {table} SET {column} = {column} - CAST(CAST(:age AS text) AS interval) "
                "WHERE org_id = :org AND id = ANY(:ids)"
            ),
            {"org": org.id, "ids": ids, "age": age},
        )


async def _ids(db: Database, org: Org, table: str) -> list[Any]:
    async with db.transaction(org.id) as session:
        return list((await session.execute(text(f"SELECT id FROM {table} ORDER BY id"))).scalars())


async def _count(db: Database, org: Org, table: str) -> int:
    async with db.transaction(org.id) as session:
        return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def test_policy_is_set_validated_and_cleared(gql: GraphQLClient, org: Org) -> None:
    body = await gql(POLICY, {"r": {"incidentsYears": 7, "eventsDays": 90}}, token=org.token())
    assert body["data"]["updateOrgPolicy"]["policy"]["retention"] == {
        "incidentsYears": 7,
        "attendanceYears": None,
        "auditYears": None,
        "eventsDays": 90,
    }
    body = await gql(POLICY, {"r": {"incidentsYears": None}}, token=org.token())
    assert body["data"]["updateOrgPolicy"]["policy"]["retention"]["incidentsYears"] is None
    assert body["data"]["updateOrgPolicy"]["policy"]["retention"]["eventsDays"] == 90
    body = await gql(POLICY, {"r": {"auditYears": 0}}, token=org.token())
    assert "errors" not in body, body
    (error,) = body["data"]["updateOrgPolicy"]["errors"]
    assert error["field"].endswith("auditYears") and error["code"] == "OUT_OF_RANGE", error
    body = await gql(POLICY, {"r": {"auditYears": 5}}, token=org.token(Role.TEACHER))
    assert body["errors"][0]["message"].startswith("Not allowed")
    body = await gql(
        "{ orgPolicy { retention { auditYears } } }", token=org.token(Role.INTEGRATION)
    )
    assert body["data"]["orgPolicy"]["retention"]["auditYears"] is None


async def test_dry_run_counts_what_the_run_deletes(
    gql: GraphQLClient, db: Database, org: Org, servers: Servers
) -> None:
    student = await make_student(db, org)
    for _ in range(5):
        await log(db, org, student.id)
    incidents = await _ids(db, org, "incidents")
    await _age(db, org, "incidents", "occurred_at", incidents[:3], "3 years")
    events = await _ids(db, org, "events")
    await _age(db, org, "events", "created_at", events[:4], "40 days")
    audits = await _ids(db, org, "audit_log")
    await _age(db, org, "audit_log", "at", audits[:2], "6 years")
    body = await gql(
        POLICY,
        {"r": {"incidentsYears": 2, "attendanceYears": 3, "auditYears": 5, "eventsDays": 30}},
        token=org.token(),
    )
    assert body["data"]["updateOrgPolicy"]["errors"] == []

    dry = await asyncio.to_thread(
        _cli, servers, "retention", "--dry-run", "--json", "--org", org.slug
    )
    assert dry.returncode == 0, dry.stderr
    planned = {d["table"]: d["rows"] for d in json.loads(dry.stdout)["orgs"][org.slug]}
    assert planned == {
        "incidents": 3,
        "webhook_deliveries": 0,
        "inbound_webhooks": 0,
        "attendance_days": 0,
        "audit_log": 2,
        "events": 4,
    }
    # Nothing was deleted by the dry run.
    assert await _count(db, org, "incidents") == 5

    now = datetime.now(UTC)
    async with db.transaction(org.id) as session:
        policy = await orgs.get_policy(session, org_id=org.id)
        plan = await retention.plan(session, org_id=org.id, policy=policy, now=now)
    done = await retention.apply(db, org_id=org.id, now=now, batch=2)  # several batches
    assert {d.rule.table: d.rows for d in done} == {d.rule.table: d.rows for d in plan}
    assert {d.rule.table: d.rows for d in done} == planned
    assert await _count(db, org, "incidents") == 2
    async with db.transaction(org.id) as session:
        again = await retention.plan(session, org_id=org.id, policy=policy, now=now)
        audit = (
            await session.execute(
                text("SELECT actor_sub, after FROM audit_log WHERE action = 'retention.apply'")
            )
        ).one()
    assert all(d.rows == 0 for d in again)
    assert audit[0] == "system:retention"
    assert audit[1]["counts"] == planned
    # The real run from the CLI says what it deleted (nothing left now).
    real = await asyncio.to_thread(_cli, servers, "retention", "--org", org.slug)
    assert real.returncode == 0, real.stderr
    assert f"{org.slug}: deleted 0 incidents (and their documents) older than" in real.stdout


async def test_orgs_without_limits_keep_everything(db: Database, org: Org) -> None:
    student = await make_student(db, org)
    await log(db, org, student.id, occurred_at=datetime.now(UTC) - timedelta(days=365 * 20))
    async with db.transaction(org.id) as session:
        policy = await orgs.get_policy(session, org_id=org.id)
    assert retention.cutoffs(policy, datetime.now(UTC)) == []
    assert await retention.apply(db, org_id=org.id, now=datetime.now(UTC)) == []
    assert await _count(db, org, "incidents") == 1
