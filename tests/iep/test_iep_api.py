"""IEP goals and probes through the API: writing them, their progress, the risk factor
IEP_PROGRESS, and who may read and write what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, StatementCounter
from tests.graphql.test_contract import upsert

CREATE = """mutation($input: CreateIepGoalInput!) { createIepGoal(input: $input) {
  goal { id title area baseline target unit direction status startDate dueDate }
  errors { field message code } } }"""
UPDATE = """mutation($input: UpdateIepGoalInput!) { updateIepGoal(input: $input) {
  goal { id status target offTrackProbes } errors { field code } } }"""
PROBE = """mutation($input: RecordIepProbeInput!) { recordIepProbe(input: $input) {
  probe { id value takenAt note goal { id } } errors { field message code } } }"""
PROBES = """mutation($input: RecordIepProbesInput!) { recordIepProbes(input: $input) {
  probes { id value } errors { field message code } } }"""
GOALS = """query($id: ID!) { student(id: $id) { riskTier
  risk { factors { indicator value threshold detail } }
  iepGoals { id title area offTrackProbes
    progress { latest percentToTarget trend neededTrend onTrack code codeMeaning probesUsed }
    probes(first: 2) { edges { node { value } } pageInfo { hasNextPage endCursor } } } } }"""


def goal_input(student: str, **extra: Any) -> dict[str, Any]:
    today = date.today()
    return {
        "studentId": student,
        "area": "Reading",
        "title": "Reads 80 words correct a minute in a grade-level passage",
        "baseline": 40,
        "target": 80,
        "unit": "words correct a minute",
        "direction": "INCREASE",
        "startDate": (today - timedelta(days=70)).isoformat(),
        "dueDate": (today + timedelta(days=250)).isoformat(),
        **extra,
    }


async def make_goal(gql: GraphQLClient, org: Org, student: str, **extra: Any) -> str:
    body = await gql(CREATE, {"input": goal_input(student, **extra)}, token=org.token())
    assert body["data"]["createIepGoal"]["errors"] == [], body
    goal_id: str = body["data"]["createIepGoal"]["goal"]["id"]
    return goal_id


def weeks_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(weeks=n)).isoformat()


async def record(gql: GraphQLClient, org: Org, goal: str, values: list[float]) -> dict[str, Any]:
    """Weekly probes ending this week, oldest first."""
    n = len(values)
    probes = [
        {"goalId": goal, "value": v, "takenAt": weeks_ago(n - 1 - i)} for i, v in enumerate(values)
    ]
    body = await gql(PROBES, {"input": {"probes": probes}}, token=org.token(Role.TEACHER))
    payload: dict[str, Any] = body["data"]["recordIepProbes"]
    return payload


async def test_a_goal_its_probes_and_its_progress(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP1")
    goal = await make_goal(gql, org, student)
    single = await gql(
        PROBE,
        {"input": {"goalId": goal, "value": 44, "takenAt": weeks_ago(2), "note": "cold read"}},
        token=org.token(Role.TEACHER),
    )
    assert single["data"]["recordIepProbe"]["errors"] == []
    assert single["data"]["recordIepProbe"]["probe"]["goal"]["id"] == goal
    batch = await gql(
        PROBES,
        {
            "input": {
                "probes": [
                    {"goalId": goal, "value": 46, "takenAt": weeks_ago(1)},
                    {"goalId": goal, "value": 48, "takenAt": weeks_ago(0)},
                ]
            }
        },
        token=org.token(Role.TEACHER),
    )
    assert batch["data"]["recordIepProbes"]["errors"] == []
    body = await gql(GOALS, {"id": student}, token=org.token(Role.TEACHER))
    (got,) = body["data"]["student"]["iepGoals"]
    p = got["progress"]
    assert p["latest"] == 48 and p["percentToTarget"] == 20.0
    assert abs(p["trend"] - 2.0) < 1e-6  # 44, 46, 48 a week apart
    assert p["onTrack"] is True and p["code"] == "SUFFICIENT" and p["probesUsed"] == 3
    assert "sufficient progress" in p["codeMeaning"]
    # Newest first, paged.
    probes = got["probes"]
    assert [e["node"]["value"] for e in probes["edges"]] == [48, 46]
    assert probes["pageInfo"]["hasNextPage"] is True


async def test_a_replayed_batch_records_each_probe_once(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP2")
    goal = await make_goal(gql, org, student)
    batch = {
        "input": {
            "probes": [
                {"goalId": goal, "value": v, "takenAt": weeks_ago(3 - v + 40)} for v in (41, 42, 43)
            ]
        }
    }
    for _ in range(2):  # a client retrying after a timeout sends the same batch again
        body = await gql(PROBES, batch, token=org.token(Role.TEACHER))
        assert body["data"]["recordIepProbes"]["errors"] == []
    body = await gql(GOALS, {"id": student}, token=org.token())
    assert body["data"]["student"]["iepGoals"][0]["progress"]["probesUsed"] == 3


async def test_bad_probes_are_named_and_nothing_is_kept(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP3")
    goal = await make_goal(gql, org, student)
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = await gql(
        PROBES,
        {
            "input": {
                "probes": [
                    {"goalId": goal, "value": 45, "takenAt": weeks_ago(1)},
                    {"goalId": goal, "value": 46, "takenAt": future},
                    {"goalId": student, "value": 46},
                ]
            }
        },
        token=org.token(),
    )
    errors = body["data"]["recordIepProbes"]["errors"]
    assert {(e["field"], e["code"]) for e in errors} == {
        ("probes[1].takenAt", "INVALID"),
        ("probes[2].goalId", "INVALID"),
    }
    after = await gql(GOALS, {"id": student}, token=org.token())
    assert after["data"]["student"]["iepGoals"][0]["progress"]["latest"] is None


async def test_goal_rules_are_named(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP4")
    body = await gql(
        CREATE,
        {"input": goal_input(student, target=30, title="  ", dueDate="2020-01-01")},
        token=org.token(),
    )
    fields = {(e["field"], e["code"]) for e in body["data"]["createIepGoal"]["errors"]}
    assert ("title", "REQUIRED") in fields
    body = await gql(CREATE, {"input": goal_input(student, target=30)}, token=org.token())
    (error,) = body["data"]["createIepGoal"]["errors"]
    assert error["field"] == "target" and "above its baseline" in error["message"]
    body = await gql(
        CREATE,
        {"input": goal_input(student, startDate="2026-01-10", dueDate="2026-01-01")},
        token=org.token(),
    )
    assert [e["field"] for e in body["data"]["createIepGoal"]["errors"]] == ["dueDate"]


async def test_three_probes_off_track_in_a_row_raise_risk(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP5")
    goal = await make_goal(gql, org, student)
    # Flat at 41: probes 3, 4 and 5 each find the goal off track.
    assert (await record(gql, org, goal, [41, 41, 41, 41]))["errors"] == []
    body = await gql(GOALS, {"id": student}, token=org.token())
    assert body["data"]["student"]["iepGoals"][0]["offTrackProbes"] == 2
    assert body["data"]["student"]["riskTier"] == 1
    assert (await record(gql, org, goal, [41]))["errors"] == []  # a fifth, now
    body = await gql(GOALS, {"id": student}, token=org.token())
    student_data = body["data"]["student"]
    assert student_data["iepGoals"][0]["offTrackProbes"] == 3
    assert student_data["riskTier"] == 2
    (factor,) = student_data["risk"]["factors"]
    assert factor["indicator"] == "IEP_PROGRESS" and factor["value"] == 3
    assert factor["threshold"] == 3
    assert factor["detail"] == "an active IEP goal off track for 3 probe(s) in a row"
    assert "Reads" not in factor["detail"]  # a goal's text never travels in events
    # Discontinuing the goal takes the factor away.
    updated = await gql(
        UPDATE, {"input": {"id": goal, "status": "DISCONTINUED"}}, token=org.token()
    )
    assert updated["data"]["updateIepGoal"]["errors"] == []
    body = await gql(GOALS, {"id": student}, token=org.token())
    assert body["data"]["student"]["riskTier"] == 1


async def test_the_threshold_is_the_orgs(gql: GraphQLClient, org: Org) -> None:
    policy = await gql(
        "mutation { updateOrgPolicy(input: {risk: {iepOffTrackProbes: 2}}) "
        "{ policy { risk { iepOffTrackProbes } } errors { field } } }",
        token=org.token(),
    )
    assert policy["data"]["updateOrgPolicy"]["policy"]["risk"]["iepOffTrackProbes"] == 2
    student = await upsert(gql, org, "IEP6")
    goal = await make_goal(gql, org, student)
    await record(gql, org, goal, [41, 41, 41, 41])
    body = await gql(GOALS, {"id": student}, token=org.token())
    assert body["data"]["student"]["riskTier"] == 2


async def test_roles(gql: GraphQLClient, org: Org) -> None:
    student = await upsert(gql, org, "IEP7")
    goal = await make_goal(gql, org, student)
    await record(gql, org, goal, [41, 42, 43])
    aide = org.token(Role.AIDE)
    # Aides read titles only.
    body = await gql(
        "query($id: ID!) { student(id: $id) { iepGoals { id title } } }",
        {"id": student},
        token=aide,
    )
    assert "errors" not in body
    assert body["data"]["student"]["iepGoals"][0]["title"].startswith("Reads 80")
    for field in (
        "area",
        "baseline",
        "target",
        "unit",
        "progress { code }",
        "probes { edges { cursor } }",
    ):
        body = await gql(
            f"query($id: ID!) {{ student(id: $id) {{ iepGoals {{ id {field} }} }} }}",
            {"id": student},
            token=aide,
        )
        assert body["errors"][0]["message"].startswith("Not allowed"), field
        assert body["data"]["student"]["iepGoals"][0][field.split()[0]] is None, field
    body = await gql(
        "query($id: ID!) { student(id: $id) { iepGoals(status: MET) { id } } }",
        {"id": student},
        token=aide,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on IepGoal { title } } }", {"id": goal}, token=aide
    )
    assert node["data"]["node"]["title"].startswith("Reads 80")
    # Aides and integrations write nothing.
    for role in (Role.AIDE, Role.INTEGRATION):
        for document, variables in (
            (CREATE, {"input": goal_input(student)}),
            (UPDATE, {"input": {"id": goal, "status": "MET"}}),
            (PROBE, {"input": {"goalId": goal, "value": 50}}),
            (PROBES, {"input": {"probes": [{"goalId": goal, "value": 50}]}}),
        ):
            body = await gql(document, variables, token=org.token(role))
            assert body["errors"][0]["message"].startswith("Not allowed"), (role, document)
    # Integrations read everything.
    body = await gql(GOALS, {"id": student}, token=org.token(Role.INTEGRATION))
    assert "errors" not in body
    # Another org sees nothing.
    from tests.conftest import make_org

    other = await make_org(gql_db(gql))
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": goal}, token=other.token())
    assert body["data"]["node"] is None


def gql_db(gql: GraphQLClient) -> Any:
    return gql.http._transport.app.state.services.db  # type: ignore[attr-defined]


async def test_goals_and_progress_in_constant_statements(
    gql: GraphQLClient, org: Org, count_statements: StatementCounter
) -> None:
    students = [await upsert(gql, org, f"IEPQ{i}", classCode="IEPQ") for i in range(4)]
    for i, student in enumerate(students):
        for g in range(i + 1):
            goal = await make_goal(gql, org, student, title=f"goal {g}")
            await record(gql, org, goal, [41, 42, 43, 44][: g + 2])
    count_statements.statements.clear()
    body = await gql(
        """{ students(filter: {classCode: "IEPQ"}) { nodes { iepGoals { title
          progress { code } probes(first: 1) { nodes { value } } } } } }""",
        token=org.token(),
    )
    assert "errors" not in body, body
    assert sum(len(s["iepGoals"]) for s in body["data"]["students"]["nodes"]) == 10
    # Students, their goals, the goals' progress (the school's time zone, the probes), the
    # goals' probe pages.
    assert len(count_statements.data_statements) == 5, count_statements.data_statements
