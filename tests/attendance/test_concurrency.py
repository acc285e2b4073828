"""Concurrent writes of one key (the same student and day, the same code) over HTTP: every
request gets a clean answer, one row is stored, and the audit trail is an exact chain (each
'before' is the 'after' of the write that came before it)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.attendance.models import AttendanceCode, AttendanceDay
from app.audit.models import AuditEntry
from app.db import Database
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

RECORD = """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
  days { day presentPeriods periodCodes { period code } } errors { field code } } }"""
SET_CODE = """mutation($input: SetAttendanceCodeInput!) { setAttendanceCode(input: $input) {
  code { code category description } errors { field code } } }"""
N = 10


async def audit_chain(db: Database, org: Org, action: str) -> list[AuditEntry]:
    """The audit rows of `action`, in the order the writes happened, checked to be a chain."""
    async with db.transaction(org.id) as session:
        rows = list(
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
                )
            ).scalars()
        )
    assert rows[0].before is None  # the first write created the row ...
    for earlier, later in itertools.pairwise(rows):
        assert later.before == earlier.after  # ... and each later one saw exactly its result
    assert len({r.entity_id for r in rows}) == 1
    return rows


def _clean(bodies: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    for body in bodies:
        assert "errors" not in body, body  # no masked internal error
        assert body["data"][field]["errors"] == [], body
    return [body["data"][field] for body in bodies]


async def test_concurrent_days_for_one_student_and_day(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    sid = await upsert(gql, org, "RACE1")
    day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    # Each request marks a different period absent, so every write is told apart.
    inputs = [
        {
            "days": [
                {
                    "studentId": sid,
                    "day": day,
                    "scheduledPeriods": N,
                    "periodCodes": [{"period": n + 1, "code": "A"}],
                }
            ]
        }
        for n in range(N)
    ]
    bodies = await asyncio.gather(*(gql(RECORD, {"input": i}, token=org.token()) for i in inputs))
    payloads = _clean(list(bodies), "recordAttendance")
    assert all(p["days"][0]["presentPeriods"] == N - 1 for p in payloads)

    async with db.transaction(org.id) as session:
        (stored,) = (await session.execute(select(AttendanceDay))).scalars().all()
    chain = await audit_chain(db, org, "attendance.record")
    assert len(chain) == N and chain[-1].after is not None
    assert chain[-1].after["period_codes"] == stored.period_codes  # the last write won
    assert sorted(next(iter(c.after["period_codes"])) for c in chain if c.after) == sorted(
        str(n + 1) for n in range(N)
    )


async def test_concurrent_code_definitions(gql: GraphQLClient, db: Database, org: Org) -> None:
    inputs = [
        {"code": "zq" if n % 2 else "ZQ", "category": "EXCUSED", "description": f"Reason {n}"}
        for n in range(N)
    ]
    bodies = await asyncio.gather(*(gql(SET_CODE, {"input": i}, token=org.token()) for i in inputs))
    payloads = _clean(list(bodies), "setAttendanceCode")
    assert {p["code"]["code"] for p in payloads} == {"ZQ"}

    async with db.transaction(org.id) as session:
        (stored,) = (
            (await session.execute(select(AttendanceCode).where(AttendanceCode.code == "ZQ")))
            .scalars()
            .all()
        )
    chain = await audit_chain(db, org, "attendance_code.set")
    assert len(chain) == N and chain[-1].after is not None
    assert chain[-1].after["description"] == stored.description
    assert sorted(c.after["description"] for c in chain if c.after) == sorted(
        f"Reason {n}" for n in range(N)
    )
