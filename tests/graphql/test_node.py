"""node(id:) resolves every Node type, only inside the caller's org and role."""

from __future__ import annotations

from app.db import Database
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, make_org
from tests.graphql.test_contract import LOG, upsert

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_node_resolves_each_type(gql: GraphQLClient, org: Org, db: Database) -> None:
    token = org.token()
    sid = await upsert(gql, org, "N1")
    ids = {"Student": sid}
    body = await gql(
        LOG, {"input": {"studentId": sid, "kind": "POSITIVE", "category": "effort"}}, token=token
    )
    ids["Incident"] = body["data"]["logIncident"]["incident"]["id"]
    body = await gql(
        """mutation($id: ID!) {
          a: recordAttendance(input: {days: [{studentId: $id, day: "2026-11-02"}]}) { days { id } }
          b: recordAssessment(input: {studentId: $id, kind: PROBE, subject: "Phonics",
               takenOn: "2026-11-02", score: 12, maxScore: 20}) { assessment { id } }
          c: createIntervention(input: {studentId: $id, tier: 1, type: "Reading buddy"}) {
               intervention { id } } }""",
        {"id": sid},
        token=token,
    )
    ids["AttendanceDay"] = body["data"]["a"]["days"][0]["id"]
    ids["Assessment"] = body["data"]["b"]["assessment"]["id"]
    ids["Intervention"] = body["data"]["c"]["intervention"]["id"]

    other = (await make_org(db)).token()
    for type_name, node_id in ids.items():
        body = await gql(NODE, {"id": node_id}, token=token)
        assert body["data"]["node"] == {"__typename": type_name, "id": node_id}
        assert (await gql(NODE, {"id": node_id}, token=other))["data"]["node"] is None

    aide = org.token(Role.AIDE)
    visible = {
        t for t, i in ids.items() if (await gql(NODE, {"id": i}, token=aide))["data"]["node"]
    }
    assert visible == {"Student", "Incident"}
    assert (await gql(NODE, {"id": "bm9uc2Vuc2U="}, token=token))["data"]["node"] is None
