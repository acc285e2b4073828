"""Filters, ordering and keyset pagination of the list fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert


async def test_student_filters(gql: GraphQLClient, org: Org) -> None:
    await upsert(gql, org, "F1", name="Ava Okafor", classCode="7A", yearGroup=7, campus="North")
    await upsert(gql, org, "F2", name="Ben 100%_Smith", classCode="7B", yearGroup=7, campus="South")
    await upsert(gql, org, "F3", name="Chloe Nguyen", classCode="8A", yearGroup=8, campus="North")
    query = "query($f: StudentFilter) { students(filter: $f) { edges { node { externalId } } } }"

    async def ids(flt: dict[str, object]) -> list[str]:
        body = await gql(query, {"f": flt}, token=org.token())
        return [e["node"]["externalId"] for e in body["data"]["students"]["edges"]]

    assert await ids({"yearGroup": 7}) == ["F1", "F2"]
    assert await ids({"campus": "North", "yearGroup": 8}) == ["F3"]
    assert await ids({"classCode": "7B"}) == ["F2"]
    assert await ids({"nameContains": "NGUY"}) == ["F3"]
    assert await ids({"nameContains": "100%_"}) == ["F2"]  # LIKE wildcards are literal
    assert await ids({"nameContains": "%"}) == ["F2"]
    assert await ids({"minRiskTier": 2}) == []


async def test_incident_filters_and_nested_pagination(gql: GraphQLClient, org: Org) -> None:
    a = await upsert(gql, org, "I1", classCode="9C")
    b = await upsert(gql, org, "I2", classCode="9D")
    now = datetime.now(UTC)
    for i in range(5):
        for sid, kind in ((a, "NEGATIVE"), (b, "POSITIVE")):
            item = {
                "studentId": sid,
                "kind": kind,
                "category": f"c{i}",
                "occurredAt": (now - timedelta(hours=10 * i)).isoformat(),
            }
            await gql(LOG, {"input": item}, token=org.token())
    query = """query($f: IncidentFilter, $after: String) { incidents(first: 3, after: $after, filter: $f) {
        edges { node { category kind student { externalId } } } pageInfo { hasNextPage endCursor } } }"""
    body = await gql(query, {"f": {"studentId": a}}, token=org.token())
    page = body["data"]["incidents"]
    assert [e["node"]["category"] for e in page["edges"]] == ["c0", "c1", "c2"]
    assert page["pageInfo"]["hasNextPage"]
    body = await gql(
        query, {"f": {"studentId": a}, "after": page["pageInfo"]["endCursor"]}, token=org.token()
    )
    rest = body["data"]["incidents"]
    assert [e["node"]["category"] for e in rest["edges"]] == ["c3", "c4"]
    assert not rest["pageInfo"]["hasNextPage"]

    body = await gql(query, {"f": {"kind": "POSITIVE", "classCode": "9D"}}, token=org.token())
    assert {e["node"]["student"]["externalId"] for e in body["data"]["incidents"]["edges"]} == {
        "I2"
    }
    window = {
        "from": (now - timedelta(hours=25)).isoformat(),
        "to": (now - timedelta(hours=5)).isoformat(),
    }
    body = await gql(query, {"f": {**window, "studentId": b}}, token=org.token())
    assert [e["node"]["category"] for e in body["data"]["incidents"]["edges"]] == ["c1", "c2"]

    nested = """query($id: ID!, $after: String) { student(id: $id) { incidents(first: 2, after: $after) {
        edges { node { category } } pageInfo { hasNextPage endCursor } } } }"""
    seen, after = [], None
    while True:
        body = await gql(nested, {"id": a, "after": after}, token=org.token())
        conn = body["data"]["student"]["incidents"]
        seen += [e["node"]["category"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ["c0", "c1", "c2", "c3", "c4"]

    bad = await gql(query, {"after": "not-a-cursor"}, token=org.token())
    assert bad["errors"][0]["extensions"] == {"field": "after", "code": "INVALID_CURSOR"}
    too_many = await gql("{ students(first: 1000) { edges { node { id } } } }", token=org.token())
    assert too_many["errors"][0]["message"] == "first must be between 0 and 100"


async def test_at_risk_students_highest_tier_first(gql: GraphQLClient, org: Org) -> None:
    await upsert(gql, org, "R0", name="Aaron Calm")
    worried = await upsert(gql, org, "R1", name="Zed Worried")
    for _ in range(5):  # strikes 1,1,2,2,3: incidents and strikes both trigger
        await gql(
            LOG,
            {"input": {"studentId": worried, "kind": "NEGATIVE", "category": "x"}},
            token=org.token(),
        )
    body = await gql(
        "{ atRiskStudents(minTier: 1) { edges { node { externalId riskTier } } } }",
        token=org.token(),
    )
    assert [e["node"] for e in body["data"]["atRiskStudents"]["edges"]] == [
        {"externalId": "R1", "riskTier": 3},
        {"externalId": "R0", "riskTier": 1},
    ]
