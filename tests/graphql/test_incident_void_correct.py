"""voidIncident and correctIncident over HTTP: payloads, strike changes, roles, audit, reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import Database
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

LOG = """mutation($input: LogIncidentInput!) {
  logIncident(input: $input) { incident { id strikeLevel } created errors { field code } } }"""
LOG_MANY = """mutation($input: LogIncidentsInput!) {
  logIncidents(input: $input) { results { index created incident { id } errors { field code } }
                                errors { field code } } }"""
VOID = """mutation($input: VoidIncidentInput!) {
  voidIncident(input: $input) {
    incident { id voided voidedAt voidedBy voidReason strikeLevel }
    strikeChanges { incident { id strikeLevel consequenceText } previousStrike strike }
    errors { field message code } } }"""
CORRECT = """mutation($input: CorrectIncidentInput!) {
  correctIncident(input: $input) {
    incident { id kind category note points occurredAt strikeLevel consequenceText
               student { housePoints riskTier } }
    strikeChanges { incident { id } previousStrike strike }
    errors { field message code } } }"""
STUDENT = """query($id: ID!) { student(id: $id) { housePoints strikeLevel riskTier
  incidents(first: 10) { edges { node { id voided } } } } }"""


async def _three_negatives(gql: GraphQLClient, org: Org, external_id: str) -> tuple[str, list[str]]:
    sid = await upsert(gql, org, external_id)
    start = datetime.now(UTC) - timedelta(hours=3)
    ids = []
    for i in range(3):
        body = await gql(
            LOG,
            {
                "input": {
                    "studentId": sid,
                    "kind": "NEGATIVE",
                    "category": "disruptive",
                    "occurredAt": (start + timedelta(minutes=i)).isoformat(),
                }
            },
            token=org.token(Role.TEACHER),
        )
        ids.append(body["data"]["logIncident"]["incident"]["id"])
    return sid, ids


async def test_void_over_http(gql: GraphQLClient, org: Org) -> None:
    sid, (first, second, third) = await _three_negatives(gql, org, "V1")
    teacher = org.token(Role.TEACHER, sub="t-1")
    body = await gql(VOID, {"input": {"id": first, "reason": "wrong student"}}, token=teacher)
    payload = body["data"]["voidIncident"]
    assert payload["errors"] == []
    incident = payload["incident"]
    assert incident["voided"] and incident["voidedBy"] == "t-1"
    assert incident["voidReason"] == "wrong student" and incident["voidedAt"]
    assert payload["strikeChanges"] == [
        {
            "incident": {"id": third, "strikeLevel": 1, "consequenceText": "Warning issued"},
            "previousStrike": 2,
            "strike": 1,
        }
    ]
    student = (await gql(STUDENT, {"id": sid}, token=teacher))["data"]["student"]
    assert student["housePoints"] == -2 and student["strikeLevel"] == 1
    # Still in the record, marked void, in lists and node(id:).
    voided = {e["node"]["id"]: e["node"]["voided"] for e in student["incidents"]["edges"]}
    assert voided == {first: True, second: False, third: False}
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Incident { voided voidReason } } }",
        {"id": first},
        token=org.token(Role.AIDE),
    )
    assert body["data"]["node"] == {"voided": True, "voidReason": "wrong student"}
    body = await gql(
        "{ v: incidents(filter: {voided: true}) { edges { node { id } } }"
        "  n: incidents(filter: {voided: false}) { edges { node { id } } } }",
        token=teacher,
    )
    assert [e["node"]["id"] for e in body["data"]["v"]["edges"]] == [first]
    assert {e["node"]["id"] for e in body["data"]["n"]["edges"]} == {second, third}

    again = await gql(VOID, {"input": {"id": first, "reason": "again"}}, token=teacher)
    assert again["data"]["voidIncident"]["incident"] is None
    assert [(e["field"], e["code"]) for e in again["data"]["voidIncident"]["errors"]] == [
        ("id", "CONFLICT")
    ]
    blank = await gql(VOID, {"input": {"id": second, "reason": " "}}, token=teacher)
    assert [(e["field"], e["code"]) for e in blank["data"]["voidIncident"]["errors"]] == [
        ("reason", "REQUIRED")
    ]
    bad_id = await gql(VOID, {"input": {"id": sid, "reason": "x"}}, token=teacher)
    assert [(e["field"], e["code"]) for e in bad_id["data"]["voidIncident"]["errors"]] == [
        ("id", "INVALID")
    ]


@pytest.mark.parametrize("role", [Role.AIDE, Role.INTEGRATION])
async def test_aides_and_integrations_may_not_void_or_correct(
    gql: GraphQLClient, org: Org, db: Database, role: Role
) -> None:
    _, (first, _, _) = await _three_negatives(gql, org, "V2")
    token = org.token(role)
    body = await gql(VOID, {"input": {"id": first, "reason": "no"}}, token=token)
    assert body["data"] is None and "requires role ADMIN, TEACHER" in body["errors"][0]["message"]
    body = await gql(CORRECT, {"input": {"id": first, "category": "late"}}, token=token)
    assert body["data"] is None and "requires role ADMIN, TEACHER" in body["errors"][0]["message"]
    async with db.transaction(org.id) as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "incident.void" not in actions and "incident.correct" not in actions


async def test_correct_over_http(gql: GraphQLClient, org: Org, db: Database) -> None:
    _, (first, second, third) = await _three_negatives(gql, org, "C1")
    admin = org.token(Role.ADMIN, sub="admin-1")
    body = await gql(
        CORRECT, {"input": {"id": first, "kind": "POSITIVE", "category": "helpful"}}, token=admin
    )
    payload = body["data"]["correctIncident"]
    assert payload["errors"] == []
    assert payload["incident"]["kind"] == "POSITIVE" and payload["incident"]["points"] == 1
    assert payload["incident"]["strikeLevel"] is None
    assert payload["incident"]["consequenceText"] is None
    assert payload["incident"]["student"]["housePoints"] == -1
    assert payload["strikeChanges"] == [
        {"incident": {"id": first}, "previousStrike": 1, "strike": None},
        {"incident": {"id": third}, "previousStrike": 2, "strike": 1},
    ]
    later = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    body = await gql(CORRECT, {"input": {"id": second, "occurredAt": later}}, token=admin)
    moved = body["data"]["correctIncident"]
    assert datetime.fromisoformat(moved["incident"]["occurredAt"]) == datetime.fromisoformat(later)
    assert moved["strikeChanges"] == []  # third then second: one negative before each, strike 1
    body = await gql(CORRECT, {"input": {"id": first}}, token=admin)
    assert body["data"]["correctIncident"]["incident"] is None
    assert [(e["field"], e["code"]) for e in body["data"]["correctIncident"]["errors"]] == [
        (None, "REQUIRED")
    ]
    body = await gql(CORRECT, {"input": {"id": first, "note": "x" * 10_001}}, token=admin)
    assert [(e["field"], e["code"]) for e in body["data"]["correctIncident"]["errors"]] == [
        ("note", "TOO_LONG")
    ]
    async with db.transaction(org.id) as session:
        rows = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_sub)
                .where(AuditEntry.action.in_(["incident.correct", "incident.restrike"]))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("incident.restrike", "admin-1"),
        ("incident.correct", "admin-1"),
        ("incident.correct", "admin-1"),
    ]


async def test_a_client_id_resent_with_another_payload_names_the_field(
    gql: GraphQLClient, org: Org
) -> None:
    sid = await upsert(gql, org, "I1")
    other = await upsert(gql, org, "I2")
    client_id = str(uuid.uuid4())
    item = {"studentId": sid, "kind": "NEGATIVE", "category": "late", "clientId": client_id}
    token = org.token(Role.TEACHER)
    first = (await gql(LOG, {"input": item}, token=token))["data"]["logIncident"]
    assert first["created"] and first["errors"] == []
    same = (await gql(LOG, {"input": item}, token=token))["data"]["logIncident"]
    assert not same["created"] and same["incident"]["id"] == first["incident"]["id"]
    moved = (await gql(LOG, {"input": {**item, "studentId": other}}, token=token))["data"][
        "logIncident"
    ]
    assert moved["incident"] is None
    assert moved["errors"] == [{"field": "clientId", "code": "IDEMPOTENCY_CONFLICT"}]
    body = await gql(
        LOG_MANY,
        {"input": {"items": [item, {**item, "category": "rude"}]}},
        token=token,
    )
    results = body["data"]["logIncidents"]["results"]
    assert results[0]["created"] is False
    assert results[0]["incident"]["id"] == first["incident"]["id"]
    assert results[1]["incident"] is None
    assert results[1]["errors"] == [{"field": "items[1].clientId", "code": "IDEMPOTENCY_CONFLICT"}]
