"""Org isolation (through every door, and RLS as the second wall) and the role matrix."""

from __future__ import annotations

from sqlalchemy import func, select, text

from app.db import Database
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import GraphQLClient, Org, make_org
from tests.graphql.test_contract import LOG, UPSERT, upsert


async def test_second_org_sees_nothing_of_the_first(gql: GraphQLClient, db: Database) -> None:
    a, b = await make_org(db), await make_org(db)
    sid = await upsert(gql, a, "A1", supportNotes="private note")
    logged = await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "late"}},
        token=a.token(),
    )
    incident_id = logged["data"]["logIncident"]["incident"]["id"]
    tb = b.token()

    assert (await gql("query($id: ID!) { student(id: $id) { id } }", {"id": sid}, token=tb))[
        "data"
    ]["student"] is None
    for node_id in (sid, incident_id):
        body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, token=tb)
        assert body["data"]["node"] is None
    lists = await gql(
        """query($sid: ID!) { students { edges { node { id } } }
           atRiskStudents(minTier: 1) { edges { node { id } } }
           incidents { edges { node { id } } }
           filtered: incidents(filter: {studentId: $sid}) { edges { node { id } } } }""",
        {"sid": sid},
        token=tb,
    )
    assert all(v["edges"] == [] for v in lists["data"].values())
    body = await gql(
        LOG, {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "x"}}, token=tb
    )
    assert body["data"]["logIncident"]["errors"][0]["code"] == "NOT_FOUND"
    body = await gql(
        "mutation($id: ID!) { updateIncident(input: {id: $id, hodConsulted: true}) { errors { code } } }",
        {"id": incident_id},
        token=tb,
    )
    assert body["data"]["updateIncident"]["errors"][0]["code"] == "NOT_FOUND"
    body = await gql(
        'mutation($id: ID!) { updateStudentSupport(input: {studentId: $id, supportNotes: "x"}) { errors { code } } }',
        {"id": sid},
        token=tb,
    )
    assert body["data"]["updateStudentSupport"]["errors"][0]["code"] == "NOT_FOUND"
    # Same external id in org B is a different student, not an update of A's.
    assert await upsert(gql, b, "A1") != sid


async def test_row_level_security_holds_without_a_where_clause(db: Database) -> None:
    a, b = await make_org(db), await make_org(db)
    from tests.factories import make_student

    await make_student(db, a)
    async with db.transaction(b.id) as session:
        assert await session.scalar(select(func.count()).select_from(Student)) == 0
        role = await session.scalar(text("SELECT current_user"))
        assert role == "schoolgraph_app"
    async with db.transaction(None) as session:  # no org set: no rows at all
        assert await session.scalar(select(func.count()).select_from(Student)) == 0


async def test_role_matrix(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "R1", supportNotes="needs a movement break")
    aide = org.token(Role.AIDE)
    body = await gql(
        LOG, {"input": {"studentId": sid, "kind": "POSITIVE", "category": "effort"}}, token=aide
    )
    assert body["data"]["logIncident"]["errors"] == []
    body = await gql(
        "query($id: ID!) { student(id: $id) { name supportNotes risk { tier } assessments { id } } }",
        {"id": sid},
        token=aide,
    )
    student = body["data"]["student"]
    assert student["name"] == "Alice Example"
    assert student["supportNotes"] is None and student["risk"] is None
    assert student["assessments"] is None
    denied = {tuple(e["path"][1:]) for e in body["errors"]}
    assert denied == {("supportNotes",), ("risk",), ("assessments",)}
    body = await gql(UPSERT, {"input": {"externalId": "R2", "name": "Bob"}}, token=aide)
    assert body["data"] is None and "requires role" in body["errors"][0]["message"]

    teacher = org.token(Role.TEACHER)
    body = await gql(
        "query($id: ID!) { student(id: $id) { supportNotes risk { tier } } }",
        {"id": sid},
        token=teacher,
    )
    assert body["data"]["student"]["supportNotes"] == "needs a movement break"
    body = await gql(
        'mutation { setAttendanceCode(input: {code: "Z", category: EXCUSED}) { errors { code } } }',
        token=teacher,
    )
    assert "requires role ADMIN" in body["errors"][0]["message"]
    body = await gql(
        'mutation { setAttendanceCode(input: {code: "Z", category: EXCUSED}) { code { code category } errors { code } } }',
        token=org.token(Role.ADMIN),
    )
    assert body["data"]["setAttendanceCode"]["code"] == {"code": "Z", "category": "EXCUSED"}
