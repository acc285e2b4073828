"""Bad input is an answer naming the field, and nothing is written."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.incidents.models import Incident
from app.students.models import Student
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, UPSERT, upsert


async def _count(db: Database, org: Org, model: type) -> int:
    async with db.transaction(org.id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_upsert_student_errors_name_fields(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    # Out of a contract's range (refused before the resolver), then blank (the service's
    # rule): either way every problem is named and nothing is written.
    cases = [
        (
            {"externalId": "E1", "name": "Ann", "supportLevel": 7, "yearGroup": 40},
            {("supportLevel", "OUT_OF_RANGE"), ("yearGroup", "OUT_OF_RANGE")},
        ),
        ({"externalId": " ", "name": ""}, {("externalId", "REQUIRED"), ("name", "REQUIRED")}),
    ]
    for student, expected in cases:
        body = await gql(UPSERT, {"input": student}, token=org.token())
        payload = body["data"]["upsertStudent"]
        assert payload["student"] is None
        assert {(e["field"], e["code"]) for e in payload["errors"]} == expected
    assert await _count(db, org, Student) == 0
    assert await _count(db, org, AuditEntry) == 0


async def test_log_incident_errors_name_fields(gql: GraphQLClient, org: Org, db: Database) -> None:
    sid = await upsert(gql, org, "V1")
    cases = [
        ({"studentId": "garbage"}, ("studentId", "INVALID")),
        ({"category": "  "}, ("category", "REQUIRED")),
        ({"points": 1000}, ("points", "OUT_OF_RANGE")),
        ({"occurredAt": "2099-01-01T00:00:00+00:00"}, ("occurredAt", "OUT_OF_RANGE")),
    ]
    for override, expected in cases:
        item = {"studentId": sid, "kind": "NEGATIVE", "category": "late", **override}
        body = await gql(LOG, {"input": item}, token=org.token())
        payload = body["data"]["logIncident"]
        assert payload["incident"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [expected]
    assert await _count(db, org, Incident) == 0


async def test_batch_with_a_bad_item_logs_nothing_and_names_it(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    sid = await upsert(gql, org, "V2")
    query = """mutation($input: LogIncidentsInput!) { logIncidents(input: $input) {
        results { index created incident { strikeLevel } errors { field code } }
        errors { field code } } }"""
    items = [
        {"studentId": sid, "kind": "NEGATIVE", "category": "late"},
        {"studentId": sid, "kind": "NEGATIVE", "category": ""},
        {"studentId": sid, "kind": "NEGATIVE", "category": "phone"},
    ]
    body = await gql(query, {"input": {"items": items}}, token=org.token())
    payload = body["data"]["logIncidents"]
    assert payload == {
        "results": [],
        "errors": [{"field": "items[1].category", "code": "REQUIRED"}],
    }
    assert await _count(db, org, Incident) == 0

    items[1]["category"] = "chewing gum"
    body = await gql(query, {"input": {"items": items}}, token=org.token())
    results = body["data"]["logIncidents"]["results"]
    assert [r["incident"]["strikeLevel"] for r in results] == [1, 1, 2]
    assert await _count(db, org, Incident) == 3
