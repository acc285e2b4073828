"""The client contract over HTTP: logIncident, upsertStudent, student, lists, auth."""

from __future__ import annotations

import uuid

from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org

UPSERT = """
mutation($input: UpsertStudentInput!) {
  upsertStudent(input: $input) { student { id externalId } errors { field message code } }
}"""
LOG = """
mutation($input: LogIncidentInput!) {
  logIncident(input: $input) {
    incident { id strikeLevel consequenceText adminNotified hodConsulted parentMeetingScheduled
               student { id riskTier } }
    errors { field message code }
  }
}"""
STUDENT = """
query($id: ID!) {
  student(id: $id) {
    id name riskTier strikeLevel housePoints supportNotes
    risk { tier factors { indicator value threshold } }
    incidents(first: 2) { edges { cursor node { id category } } pageInfo { hasNextPage endCursor } }
  }
}"""


async def upsert(gql: GraphQLClient, org: Org, external_id: str, **extra: object) -> str:
    body = await gql(
        UPSERT,
        {"input": {"externalId": external_id, "name": "Alice Example", "classCode": "3A", **extra}},
        token=org.token(),
    )
    assert body["data"]["upsertStudent"]["errors"] == []
    student_id: str = body["data"]["upsertStudent"]["student"]["id"]
    return student_id


async def test_log_incident_journey_over_http(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "S1")
    assert await upsert(gql, org, "S1") == sid  # upsert by external id
    results = []
    for _ in range(5):
        body = await gql(
            LOG,
            {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "disruptive"}},
            token=org.token(Role.TEACHER),
        )
        assert body["data"]["logIncident"]["errors"] == []
        results.append(body["data"]["logIncident"]["incident"])
    assert [r["strikeLevel"] for r in results] == [1, 1, 2, 2, 3]
    assert results[2]["adminNotified"] and results[4]["hodConsulted"]
    assert results[4]["student"] == {"id": sid, "riskTier": 3}

    body = await gql(STUDENT, {"id": sid}, token=org.token())
    student = body["data"]["student"]
    assert student["strikeLevel"] == 3
    assert student["housePoints"] == -5
    indicators = {f["indicator"] for f in student["risk"]["factors"]}
    assert indicators == {"BEHAVIOUR_INCIDENTS", "BEHAVIOUR_STRIKES"}
    assert student["incidents"]["pageInfo"]["hasNextPage"] is True
    first_page = [e["node"]["id"] for e in student["incidents"]["edges"]]
    assert first_page[0] == results[-1]["id"]  # newest first


async def test_client_id_over_http(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "S2")
    payload = {
        "studentId": sid,
        "kind": "POSITIVE",
        "category": "kindness",
        "clientId": str(uuid.uuid4()),
    }
    one = await gql(LOG, {"input": payload}, token=org.token())
    two = await gql(LOG, {"input": payload}, token=org.token())
    assert (
        one["data"]["logIncident"]["incident"]["id"] == two["data"]["logIncident"]["incident"]["id"]
    )


async def test_keyset_pagination_is_stable_under_inserts(gql: GraphQLClient, org: Org) -> None:
    for i in range(5):
        await upsert(gql, org, f"P{i}", name=f"Pupil {i}")
    query = "query($after: String) { students(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage endCursor } } }"
    page1 = (await gql(query, {}, token=org.token()))["data"]["students"]
    # an insert that sorts before the cursor must not shift the next page
    await upsert(gql, org, "P-early", name="Aaron First")
    page2 = (await gql(query, {"after": page1["pageInfo"]["endCursor"]}, token=org.token()))[
        "data"
    ]["students"]
    names = [e["node"]["name"] for e in page1["edges"] + page2["edges"]]
    assert names == ["Pupil 0", "Pupil 1", "Pupil 2", "Pupil 3"]


async def test_no_or_bad_token_is_401(gql: GraphQLClient, org: Org) -> None:
    assert (await gql.raw("{ me { sub } }", None, None)).status_code == 401
    assert (await gql.raw("{ me { sub } }", None, "not-a-jwt")).status_code == 401
    from app.auth.tokens import issue

    forged = issue("another-secret-of-at-least-32-bytes!!", sub="x", org=org.slug, role=Role.ADMIN)
    assert (await gql.raw("{ me { sub } }", None, forged)).status_code == 401
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_health_and_readiness(gql: GraphQLClient) -> None:
    assert (await gql.http.get("/healthz")).json() == {"status": "ok"}
    ready = await gql.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "broadcast": "ok"}


async def test_too_deep_query_is_rejected(gql: GraphQLClient, org: Org) -> None:
    deep = "{ students { edges { node { incidents { edges { node { student { incidents { edges { node { student { incidents { edges { node { id } } } } } } } } } } } } } } }"
    body = await gql(deep, token=org.token())
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_metrics_count_requests_and_incidents(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "M1")
    await gql(
        LOG, {"input": {"studentId": sid, "kind": "NEUTRAL", "category": "note"}}, token=org.token()
    )
    text = (await gql.http.get("/metrics")).text
    assert 'schoolgraph_incidents_logged_total{kind="NEUTRAL"}' in text
    assert (
        'schoolgraph_http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}'
        in text
    )
