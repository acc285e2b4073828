"""Every text of an assessment is stored as Validator.text returns it (NFC, trimmed, blank as
null), within the limits of app.core.contracts: the same name typed on two keyboards is the
same result."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.assessments import flows
from app.assessments.models import Assessment, AssessmentKind
from app.assessments.service import AssessmentData
from app.core import contracts
from app.core.errors import ServiceError
from app.db import Database
from tests.conftest import GraphQLClient, Org
from tests.factories import make_student
from tests.graphql.test_contract import upsert

RECORD = """mutation($input: RecordAssessmentInput!) { recordAssessment(input: $input) {
  assessment { id name subject placement relativePlacement gradeLevelsRelative lexile quantile }
  errors { field code } } }"""
DECOMPOSED = "Cafe\u0301 check"  # e + combining acute: NFC makes it one character
COMPOSED = unicodedata.normalize("NFC", DECOMPOSED)


async def test_texts_are_stored_cleaned_and_key_the_same_row(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    sid = await upsert(gql, org, "CL1")
    base = {
        "studentId": sid,
        "kind": "DIAGNOSTIC",
        "subject": " reading ",
        "takenOn": (date.today() - timedelta(days=1)).isoformat(),
        "scaleScore": 480,
    }
    body = await gql(
        RECORD,
        {
            "input": {
                **base,
                "name": f"  {DECOMPOSED} ",
                "placement": "  Early 7 ",
                "relativePlacement": " 2 Grade Levels Below\t",
                "lexile": " 650L ",
                "quantile": "   ",
            }
        },
        token=org.token(),
    )
    payload = body["data"]["recordAssessment"]
    assert payload["errors"] == []
    first = payload["assessment"]
    assert {k: v for k, v in first.items() if k != "id"} == {
        "name": COMPOSED,
        "subject": "ELA",
        "placement": "Early 7",
        "relativePlacement": "2 Grade Levels Below",
        "gradeLevelsRelative": -2,
        "lexile": "650L",
        "quantile": None,
    }

    # The composed spelling is the same natural key: the result is replaced, not doubled.
    body = await gql(
        RECORD, {"input": {**base, "name": COMPOSED, "scaleScore": 490}}, token=org.token()
    )
    assert body["data"]["recordAssessment"]["assessment"]["id"] == first["id"]
    async with db.transaction(org.id) as session:
        (row,) = (await session.execute(select(Assessment))).scalars().all()
    assert (row.name, row.scale_score, row.placement) == (COMPOSED, 490, None)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("placement", "x" * ((contracts.Placement.max_length or 0) + 1), "TOO_LONG"),
        ("lexile", "9" * ((contracts.Measure.max_length or 0) + 1), "TOO_LONG"),
        ("quantile", "500Q\x00", "INVALID_CHARACTERS"),
        ("relative_placement", "Below\x07", "INVALID_CHARACTERS"),
        ("name", " ", None),  # blank: no name, no error
    ],
)
async def test_the_service_checks_every_text(
    db: Database, org: Org, field: str, value: str, code: str | None
) -> None:
    """Imports and seeds come by the service, not the GraphQL door: the same limits apply."""
    student = await make_student(db, org)
    data = AssessmentData(
        student.id, AssessmentKind.DIAGNOSTIC, "MATH", date(2026, 9, 20), scale_score=500
    )
    setattr(data, field, value)
    camel = "relativePlacement" if field == "relative_placement" else field
    if code is None:
        async with db.transaction(org.id) as session:
            row = await flows.record(session, actor=org.principal(), data=data)
        assert getattr(row, field) is None
        return
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await flows.record_many(session, actor=org.principal(), items=[data])
    assert [(e.field, e.code.value) for e in refused.value.errors] == [(f"items[0].{camel}", code)]


async def test_the_later_item_of_a_key_in_one_batch_wins(db: Database, org: Org) -> None:
    student = await make_student(db, org)
    items = [
        AssessmentData(
            student.id, AssessmentKind.EXAM, "Science", date(2026, 9, 20), name=name, score=score
        )
        for name, score in ((DECOMPOSED, 10), (" Other ", 5), (COMPOSED, 12))
    ]
    async with db.transaction(org.id) as session:
        rows = await flows.record_many(session, actor=org.principal(), items=items)
    assert rows[0] is rows[2] and rows[0].score == 12 and rows[1].name == "Other"
    async with db.transaction(org.id) as session:
        stored = (await session.execute(select(Assessment.name, Assessment.score))).all()
    assert sorted(stored) == [(COMPOSED, 12), ("Other", 5)]
    assert uuid.UUID(str(rows[0].id))
