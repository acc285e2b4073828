"""Student.riskTrajectory and atRiskStudents(projected: true) through the API: the shape,
who may read it, and that a projected list is answered (by the resolver path)."""

from __future__ import annotations

from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import GraphQLClient
from tests.factories import make_student
from tests.risk.test_trajectory import WEEKS, _attendance, _school_org, _store_tiers

TRAJECTORY = """query($id: ID!) { student(id: $id) { riskTier riskTrajectory(weeks: 8) {
  weeks horizonWeeks currentTier projectedTier drivers explanation
  indicators { indicator unit slope direction current projected projectedTriggered
    explanation weeks { weekStart value } } } } }"""
HEADING = """query($min: Int!) { atRiskStudents(minTier: $min, projected: true, first: 10) {
  nodes { name riskTier riskTrajectory { projectedTier drivers } } } }"""


async def test_trajectory_and_projected_list(gql: GraphQLClient, db: Database) -> None:
    org = await _school_org(db)
    falling = (await make_student(db, org, name="Fay Falling")).id
    steady = (await make_student(db, org, name="Sam Steady")).id
    await _attendance(db, org, falling, list(range(WEEKS)))  # 100% down to 86%
    await _attendance(db, org, steady, [2] * WEEKS)  # 96% each week
    await _store_tiers(db, org, [falling, steady])

    body = await gql(TRAJECTORY, {"id": to_global_id("Student", falling)}, token=org.token())
    assert "errors" not in body, body
    t = body["data"]["student"]["riskTrajectory"]
    assert (t["weeks"], t["horizonWeeks"]) == (8, 4)
    assert t["currentTier"] == body["data"]["student"]["riskTier"]
    assert t["projectedTier"] > t["currentTier"]
    assert "ATTENDANCE" in t["drivers"] and "ATTENDANCE" in t["explanation"]
    (att,) = [i for i in t["indicators"] if i["indicator"] == "ATTENDANCE"]
    assert att["direction"] == "WORSENING" and att["slope"] < 0 and att["projectedTriggered"]
    assert len(att["weeks"]) == 8
    assert {i["indicator"] for i in t["indicators"]} == {
        "ATTENDANCE",
        "BEHAVIOUR_INCIDENTS",
        "COURSE_PERFORMANCE",
    }

    body = await gql(HEADING, {"min": 2}, token=org.token(Role.TEACHER))
    assert "errors" not in body, body
    names = [n["name"] for n in body["data"]["atRiskStudents"]["nodes"]]
    assert names == ["Fay Falling"]
    (node,) = body["data"]["atRiskStudents"]["nodes"]
    assert node["riskTrajectory"]["projectedTier"] > node["riskTier"]
    # Without projected: today's list (the falling student may already be at tier 2; the
    # steady one is not on either).
    body = await gql(
        "{ atRiskStudents(minTier: 1, first: 10) { nodes { name } } }", token=org.token()
    )
    assert {n["name"] for n in body["data"]["atRiskStudents"]["nodes"]} == {
        "Fay Falling",
        "Sam Steady",
    }

    # Aides see neither.
    aide = org.token(Role.AIDE)
    body = await gql(TRAJECTORY, {"id": to_global_id("Student", steady)}, token=aide)
    assert body["errors"][0]["message"].startswith("Not allowed")
    assert body["data"]["student"]["riskTrajectory"] is None
    body = await gql(HEADING, {"min": 2}, token=aide)
    assert body["errors"][0]["message"].startswith("Not allowed")
    # weeks is bounded.
    body = await gql(
        "query($id: ID!) { student(id: $id) { riskTrajectory(weeks: 500) { weeks } } }",
        {"id": to_global_id("Student", steady)},
        token=org.token(),
    )
    assert "TrajectoryWeeks" in body["errors"][0]["message"] or body["errors"][0]["extensions"]
