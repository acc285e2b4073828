"""domainScores is checked like any other input: a flat object of names to scores."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

RECORD = """mutation($input: RecordAssessmentInput!) { recordAssessment(input: $input) {
    assessment { domainScores } errors { field code } } }"""


def _input(sid: str, scores: Any) -> dict[str, Any]:
    return {
        "studentId": sid,
        "kind": "DIAGNOSTIC",
        "subject": "MATH",
        "takenOn": (date.today() - timedelta(days=1)).isoformat(),
        "scaleScore": 480,
        "domainScores": scores,
    }


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ("x", [{"field": "domainScores", "code": "INVALID"}]),
        ([1, 2], [{"field": "domainScores", "code": "INVALID"}]),
        ({"Geometry": {"deep": 1}}, [{"field": "domainScores", "code": "OUT_OF_RANGE"}]),
        ({"Geometry": 1e9}, [{"field": "domainScores.Geometry", "code": "OUT_OF_RANGE"}]),
        ({"Geo\u0000": 1}, [{"field": "domainScores.Geo\u0000", "code": "INVALID_CHARACTERS"}]),
        ({"Geometry": True}, [{"field": "domainScores.Geometry", "code": "INVALID"}]),
    ],
)
async def test_bad_domain_scores_name_the_field(
    gql: GraphQLClient, org: Org, scores: Any, expected: list[dict[str, str]]
) -> None:
    sid = await upsert(gql, org, "DS1")
    body = await gql(RECORD, {"input": _input(sid, scores)}, token=org.token(Role.TEACHER))
    if "errors" in body:  # refused at the door (control characters): field and code too
        assert body["errors"][0]["extensions"]["code"] == expected[0]["code"]
        return
    assert body["data"]["recordAssessment"]["errors"] == expected


async def test_good_domain_scores_are_kept(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "DS2")
    scores = {" Number and Operations ": 512, "Geometry": "Mid 4", "Algebra": None}
    body = await gql(RECORD, {"input": _input(sid, scores)}, token=org.token(Role.TEACHER))
    assert body["data"]["recordAssessment"]["errors"] == []
    assert body["data"]["recordAssessment"]["assessment"]["domainScores"] == {
        "Number and Operations": 512,
        "Geometry": "Mid 4",
        "Algebra": None,
    }
