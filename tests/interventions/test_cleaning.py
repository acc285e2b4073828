"""Intervention texts are stored as Validator.text returns them (NFC, trimmed), within the
limits of app.core.contracts; a blank type is refused rather than reaching the NOT NULL."""

from __future__ import annotations

import unicodedata

import pytest

from app.core import contracts
from app.core.errors import ServiceError
from app.db import Database
from app.interventions import service
from tests.conftest import GraphQLClient, Org
from tests.factories import make_student
from tests.graphql.test_contract import upsert

CREATE = """mutation($input: CreateInterventionInput!) { createIntervention(input: $input) {
  intervention { id type owner notes } errors { field code } } }"""
UPDATE = """mutation($input: UpdateInterventionInput!) { updateIntervention(input: $input) {
  intervention { type owner notes } errors { field code } } }"""
DECOMPOSED = "Lecture guide\u0301e"
COMPOSED = unicodedata.normalize("NFC", DECOMPOSED)


async def test_texts_are_nfc_and_trimmed(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "IV1")
    body = await gql(
        CREATE,
        {
            "input": {
                "studentId": sid,
                "tier": 2,
                "type": f"  {DECOMPOSED} ",
                "owner": " Ms. Dupre\u0301 ",
                "notes": f"\n{DECOMPOSED}\n",
            }
        },
        token=org.token(),
    )
    payload = body["data"]["createIntervention"]
    assert payload["errors"] == []
    created = payload["intervention"]
    assert (created["type"], created["owner"], created["notes"]) == (
        COMPOSED,
        "Ms. Dupré",
        COMPOSED,
    )

    body = await gql(
        UPDATE, {"input": {"id": created["id"], "owner": "  ", "notes": " x "}}, token=org.token()
    )
    assert body["data"]["updateIntervention"] == {
        "intervention": {"type": COMPOSED, "owner": None, "notes": "x"},
        "errors": [],
    }
    # A blank type would empty a required column: an answer, not an internal error.
    body = await gql(UPDATE, {"input": {"id": created["id"], "type": " "}}, token=org.token())
    assert "errors" not in body, body
    assert body["data"]["updateIntervention"]["errors"] == [{"field": "type", "code": "REQUIRED"}]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            service.InterventionChanges(tier=1, type="x" * ((contracts.Label.max_length or 0) + 1)),
            [("type", "TOO_LONG")],
        ),
        (
            service.InterventionChanges(tier=1, type="Mentor", owner="\x00"),
            [("owner", "INVALID_CHARACTERS")],
        ),
        (
            service.InterventionChanges(tier=4, type=" "),
            [("tier", "OUT_OF_RANGE"), ("type", "REQUIRED")],
        ),
    ],
)
async def test_the_service_checks_every_text(
    db: Database, org: Org, changes: service.InterventionChanges, expected: list[tuple[str, str]]
) -> None:
    student = await make_student(db, org)
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await service.create(
                session, actor=org.principal(), student_id=student.id, changes=changes
            )
    assert [(e.field, e.code.value) for e in refused.value.errors] == expected
