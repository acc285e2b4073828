"""logIncidents never hides a write: every item is checked before anything is written, and
once writing starts every item has a result, whatever fails inside the service and wherever.
The rows in the database are counted against the items answered as logged."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.graphql.relay import to_global_id
from app.incidents.models import Incident
from tests.conftest import GraphQLClient, Org, Servers
from tests.graphql.test_contract import upsert
from tests.support import inserts_fail

LOG_MANY = """mutation($input: LogIncidentsInput!) { logIncidents(input: $input) {
    results { index created incident { id category } errors { field message code } }
    errors { field message code } } }"""
FAIL_HERE = "fail-here"


async def rows(db: Database, org: Org, model: type = Incident) -> int:
    async with db.transaction(org.id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def incident_ids(db: Database, org: Org) -> set[str]:
    async with db.transaction(org.id) as session:
        found = (await session.execute(select(Incident.id))).scalars()
        return {to_global_id("Incident", i) for i in found}


def items(student: str, n: int = 10, **at: dict[str, Any]) -> list[dict[str, Any]]:
    """`n` items, item i overridden by `at[f"i{i}"]`."""
    return [
        {"studentId": student, "kind": "POSITIVE", "category": f"c{i}", **at.get(f"i{i}", {})}
        for i in range(n)
    ]


def acknowledged(payload: dict[str, Any]) -> set[str]:
    return {r["incident"]["id"] for r in payload["results"] if r["created"]}


async def test_a_failure_inside_the_service_is_that_items_answer(
    gql: GraphQLClient, db: Database, org: Org, servers: Servers, captured_log: io.StringIO
) -> None:
    student = await upsert(gql, org, "B1")
    batch = items(student, i3={"category": FAIL_HERE})
    async with inserts_fail(servers, org.id, "incidents", f"NEW.category = '{FAIL_HERE}'"):
        body = await gql(LOG_MANY, {"input": {"items": batch}}, token=org.token())
    assert "errors" not in body, body  # no top-level error: the answer is the payload
    payload = body["data"]["logIncidents"]
    assert payload["errors"] == []
    results = payload["results"]
    assert [r["index"] for r in results] == list(range(10))
    failed = results[3]
    assert failed["incident"] is None and failed["created"] is False
    (error,) = failed["errors"]
    assert error["field"] == "items[3]" and error["code"] == "INTERNAL_SERVER_ERROR"
    match = re.fullmatch(r"Internal server error \(errorId ([0-9a-f]{16})\)", error["message"])
    assert match, error
    # The items after the failure went on; each logged one is in the answer.
    assert all(r["created"] and r["errors"] == [] for i, r in enumerate(results) if i != 3)
    assert [r["incident"]["category"] for r in results if r["incident"]] == [
        f"c{i}" for i in range(10) if i != 3
    ]
    assert await incident_ids(db, org) == acknowledged(payload)
    assert await rows(db, org) == 9
    # The detail is in the log under the id the client got, never with the client.
    logged = captured_log.getvalue()
    assert f"internal error {match[1]} at logIncidents.items[3]" in logged
    assert "sqlstate=P0001" in logged and "injected fault" not in str(body) + logged

    # The client resends only what was not acknowledged: no incident is doubled.
    body = await gql(LOG_MANY, {"input": {"items": [batch[3]]}}, token=org.token())
    assert body["data"]["logIncidents"]["results"][0]["created"] is True
    assert await rows(db, org) == 10


async def test_a_student_not_found_fails_only_its_item(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    student = await upsert(gql, org, "B2")
    nobody = to_global_id("Student", uuid.uuid4())
    client_id = str(uuid.uuid4())
    batch = items(
        student,
        i3={"studentId": nobody},
        i5={"clientId": client_id},
        i6={"clientId": client_id, "category": "another payload"},  # a conflict at log time
    )
    body = await gql(LOG_MANY, {"input": {"items": batch}}, token=org.token())
    payload = body["data"]["logIncidents"]
    assert payload["errors"] == []
    results = payload["results"]
    assert [(e["field"], e["code"]) for e in results[3]["errors"]] == [
        ("items[3].studentId", "NOT_FOUND")
    ]
    assert [(e["field"], e["code"]) for e in results[6]["errors"]] == [
        ("items[6].clientId", "IDEMPOTENCY_CONFLICT")
    ]
    assert [i for i, r in enumerate(results) if r["created"]] == [0, 1, 2, 4, 5, 7, 8, 9]
    assert await incident_ids(db, org) == acknowledged(payload)
    assert await rows(db, org) == 8


async def test_an_invalid_item_means_nothing_is_written(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    student = await upsert(gql, org, "B3")
    # Problems the service's checks find (the input contracts, checked before the resolver,
    # refuse a batch in the same way: nothing written, every problem named).
    batch = items(
        student,
        i3={"category": "  "},
        i7={"occurredAt": "2099-01-01T00:00:00+00:00"},
        i8={"studentId": "garbage"},
    )
    audit_before = await rows(db, org, AuditEntry)
    body = await gql(LOG_MANY, {"input": {"items": batch}}, token=org.token())
    payload = body["data"]["logIncidents"]
    assert payload["results"] == []
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("items[3].category", "REQUIRED"),
        ("items[7].occurredAt", "OUT_OF_RANGE"),
        ("items[8].studentId", "INVALID"),
    ]
    assert await rows(db, org) == 0
    assert await rows(db, org, AuditEntry) == audit_before
