"""Concurrent recordAssessment calls for one natural key (student, kind, subject, date, name):
clean answers, one row, and an exact audit chain."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from app.assessments.models import Assessment
from app.db import Database
from tests.attendance.test_concurrency import N, _clean, audit_chain
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

RECORD = """mutation($input: RecordAssessmentInput!) { recordAssessment(input: $input) {
  assessment { id scaleScore } errors { field code } } }"""


async def test_concurrent_results_for_one_key(gql: GraphQLClient, db: Database, org: Org) -> None:
    sid = await upsert(gql, org, "RACE2")
    taken = (date.today() - timedelta(days=1)).isoformat()
    inputs = [
        {
            "studentId": sid,
            "kind": "DIAGNOSTIC",
            "subject": "Reading" if n % 2 else "ELA",
            "takenOn": taken,
            "name": "Fall",
            "scaleScore": 400 + n,
        }
        for n in range(N)
    ]
    bodies = await asyncio.gather(*(gql(RECORD, {"input": i}, token=org.token()) for i in inputs))
    payloads = _clean(list(bodies), "recordAssessment")
    assert len({p["assessment"]["id"] for p in payloads}) == 1

    async with db.transaction(org.id) as session:
        (stored,) = (await session.execute(select(Assessment))).scalars().all()
    chain = await audit_chain(db, org, "assessment.record")
    assert len(chain) == N and chain[-1].after is not None
    assert chain[-1].after["scale_score"] == stored.scale_score
    assert sorted(c.after["scale_score"] for c in chain if c.after) == [400 + n for n in range(N)]
