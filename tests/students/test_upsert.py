"""upsertStudent over HTTP: race-free by external id, partial updates keep what they omit,
null clears, and support fields only for the roles that may write them."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.orgs.models import Role
from app.risk.models import RiskAssessment
from app.students.models import Student
from tests.conftest import GraphQLClient, Org, StatementCounter

UPSERT = """
mutation($input: UpsertStudentInput!) {
  upsertStudent(input: $input) {
    created
    student { id externalId name classCode yearGroup campus supportLevel supportNotes }
    errors { field message code }
  }
}"""
SUPPORT = """
mutation($input: UpdateStudentSupportInput!) {
  updateStudentSupport(input: $input) {
    student { id supportLevel supportNotes }
    errors { field message code }
  }
}"""
FULL = {
    "externalId": "P1",
    "name": "Priya Patel",
    "classCode": "8B",
    "yearGroup": 8,
    "campus": "North",
    "supportLevel": 2,
    "supportNotes": "Seat near the front",
}


async def _upsert(
    gql: GraphQLClient, org: Org, fields: dict[str, Any], role: Role = Role.ADMIN
) -> dict[str, Any]:
    body = await gql(UPSERT, {"input": fields}, token=org.token(role))
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["upsertStudent"]
    return payload


async def _rows(db: Database, org: Org) -> list[dict[str, Any]]:
    async with db.transaction(org.id) as session:
        students = (await session.execute(select(Student).order_by(Student.external_id))).scalars()
        return [
            {
                "external_id": s.external_id,
                "name": s.name,
                "class_code": s.class_code,
                "year_group": s.year_group,
                "campus": s.campus,
                "support_level": s.support_level,
                "support_notes": s.support_notes,
                "updated_at": s.updated_at,
            }
            for s in students
        ]


async def _audit(db: Database, org: Org) -> list[AuditEntry]:
    async with db.transaction(org.id) as session:
        entries = await session.execute(select(AuditEntry).order_by(AuditEntry.id))
        return list(entries.scalars())


async def test_parallel_upserts_of_one_external_id_make_one_student(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    names = [f"Racer {i:02d}" for i in range(20)]
    bodies = await asyncio.gather(
        *(
            gql(UPSERT, {"input": {"externalId": "RACE1", "name": n}}, token=org.token())
            for n in names
        )
    )
    assert all("errors" not in b for b in bodies), [b.get("errors") for b in bodies]
    payloads = [b["data"]["upsertStudent"] for b in bodies]
    assert [p["errors"] for p in payloads] == [[]] * 20
    assert sorted(p["created"] for p in payloads) == [False] * 19 + [True]
    assert len({p["student"]["id"] for p in payloads}) == 1

    rows = await _rows(db, org)
    assert len(rows) == 1 and rows[0]["name"] in names
    # The upserts took the row lock one after another: each update's `before` is exactly
    # what the one before it wrote, and the last one's `after` is what is stored.
    entries = await _audit(db, org)
    assert [e.action for e in entries] == ["student.create"] + ["student.update"] * 19
    assert entries[0].before is None
    for previous, entry in itertools.pairwise(entries):
        assert entry.before is not None and entry.before["name"] == previous.after["name"]
    assert entries[-1].after["name"] == rows[0]["name"]
    assert sorted(e.after["name"] for e in entries) == names
    async with db.transaction(org.id) as session:  # the first risk evaluation, once
        count = select(func.count()).select_from(RiskAssessment)
        assert await session.scalar(count) == 1


async def test_a_partial_upsert_keeps_what_it_omits(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    created = await _upsert(gql, org, FULL)
    assert created["created"] is True and created["errors"] == []
    updated = await _upsert(gql, org, {"externalId": "P1", "name": "Priya K. Patel"})
    assert updated["created"] is False and updated["errors"] == []
    assert updated["student"] == {**created["student"], "name": "Priya K. Patel"}
    (row,) = await _rows(db, org)
    assert row | {"updated_at": None} == {
        "external_id": "P1",
        "name": "Priya K. Patel",
        "class_code": "8B",
        "year_group": 8,
        "campus": "North",
        "support_level": 2,
        "support_notes": "Seat near the front",
        "updated_at": None,
    }
    last = (await _audit(db, org))[-1]
    assert last.action == "student.update"
    assert last.before is not None and last.before["name"] == "Priya Patel"
    assert last.before["class_code"] == "8B" and last.after["class_code"] == "8B"


async def test_an_explicit_null_clears(gql: GraphQLClient, org: Org, db: Database) -> None:
    await _upsert(gql, org, FULL)
    cleared = await _upsert(
        gql,
        org,
        {
            "externalId": "P1",
            "name": "Priya Patel",
            "classCode": None,
            "yearGroup": None,
            "campus": None,
            "supportLevel": None,
            "supportNotes": None,
        },
    )
    assert cleared["errors"] == []
    (row,) = await _rows(db, org)
    assert (row["class_code"], row["year_group"], row["campus"]) == (None, None, None)
    assert (row["support_level"], row["support_notes"]) == (0, None)  # null level: back to 0
    last = (await _audit(db, org))[-1]
    assert last.before is not None and last.before["year_group"] == 8
    assert last.after["year_group"] is None


async def test_a_new_student_gets_defaults_for_what_is_omitted(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    created = await _upsert(gql, org, {"externalId": "N1", "name": "Noor"})
    assert created["created"] is True
    assert created["student"] | {"id": None} == {
        "id": None,
        "externalId": "N1",
        "name": "Noor",
        "classCode": None,
        "yearGroup": None,
        "campus": None,
        "supportLevel": 0,
        "supportNotes": None,
    }


async def test_integration_may_not_write_support_fields(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    await _upsert(gql, org, FULL)
    stored, audited = await _rows(db, org), len(await _audit(db, org))

    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"supportNotes": "Overwritten by a sync"}, ["supportNotes"]),
        ({"supportNotes": None}, ["supportNotes"]),  # clearing is writing
        ({"supportLevel": 0}, ["supportLevel"]),
        (
            {"supportLevel": 3, "supportNotes": "x", "classCode": "9C"},
            ["supportLevel", "supportNotes"],
        ),
    ]
    for extra, fields in cases:
        payload = await _upsert(
            gql, org, {"externalId": "P1", "name": "Sync Name", **extra}, Role.INTEGRATION
        )
        assert payload["student"] is None and payload["created"] is False
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (f, "FORBIDDEN") for f in fields
        ]
        assert "ADMIN, TEACHER" in payload["errors"][0]["message"]
    # A new student with a forbidden field is not created either.
    payload = await _upsert(
        gql, org, {"externalId": "P2", "name": "New", "supportNotes": "x"}, Role.INTEGRATION
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("supportNotes", "FORBIDDEN")]
    assert await _rows(db, org) == stored
    assert len(await _audit(db, org)) == audited

    # What INTEGRATION may write, it writes, and the support fields stay.
    payload = await _upsert(
        gql, org, {"externalId": "P1", "name": "Sync Name", "classCode": "9C"}, Role.INTEGRATION
    )
    assert payload["errors"] == []
    (row,) = await _rows(db, org)
    assert (row["name"], row["class_code"]) == ("Sync Name", "9C")
    assert (row["support_level"], row["support_notes"]) == (2, "Seat near the front")
    # A teacher may write them.
    payload = await _upsert(
        gql, org, {"externalId": "P1", "name": "Sync Name", "supportLevel": 1}, Role.TEACHER
    )
    assert payload["errors"] == [] and payload["student"]["supportLevel"] == 1


async def test_update_support_changes_only_what_is_given(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    sid = (await _upsert(gql, org, FULL))["student"]["id"]

    async def support(fields: dict[str, Any]) -> dict[str, Any]:
        body = await gql(SUPPORT, {"input": {"studentId": sid, **fields}}, token=org.token())
        payload: dict[str, Any] = body["data"]["updateStudentSupport"]
        return payload

    level = await support({"supportLevel": 3})
    assert level["errors"] == []
    assert level["student"] | {"id": None} == {
        "id": None,
        "supportLevel": 3,
        "supportNotes": "Seat near the front",
    }
    notes = await support({"supportNotes": None})
    assert notes["student"]["supportNotes"] is None and notes["student"]["supportLevel"] == 3
    level = await support({"supportLevel": None})
    assert level["student"]["supportLevel"] == 0
    nothing = await support({})
    assert [(e["field"], e["code"]) for e in nothing["errors"]] == [("supportLevel", "REQUIRED")]


async def test_upsert_is_one_statement_its_audit_row_and_its_event(
    gql: GraphQLClient, org: Org, count_statements: StatementCounter
) -> None:
    await _upsert(gql, org, {"externalId": "Q1", "name": "Quinn"})
    count_statements.statements.clear()
    payload = await _upsert(gql, org, {"externalId": "Q1", "name": "Quinn B", "campus": "East"})
    assert payload["errors"] == [] and payload["created"] is False
    statements = count_statements.data_statements
    assert len(statements) == 3, statements
    assert "ON CONFLICT (org_id, external_id) DO UPDATE" in statements[0]
    assert statements[1].startswith("INSERT INTO audit_log")
    # Its event, scoped by the row (student.changed pushes no webhook: no outbox).
    assert statements[2].startswith("INSERT INTO events")
