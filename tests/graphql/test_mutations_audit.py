"""Every mutation writes an audit row; escalation flags and interventions round-trip."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.db import Database
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert


async def _actions(db: Database, org: Org) -> list[str]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))
        return list(rows.scalars())


async def test_every_mutation_is_audited(gql: GraphQLClient, org: Org, db: Database) -> None:
    token = org.token(Role.ADMIN, sub="admin-1")
    sid = await upsert(gql, org, "AU1")
    body = await gql(
        LOG, {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "late"}}, token=token
    )
    incident_id = body["data"]["logIncident"]["incident"]["id"]
    body = await gql(
        """mutation($id: ID!) { updateIncident(input: {id: $id, parentMeetingScheduled: true}) {
             incident { parentMeetingScheduled hodConsulted } errors { code } } }""",
        {"id": incident_id},
        token=token,
    )
    assert body["data"]["updateIncident"]["incident"] == {
        "parentMeetingScheduled": True,
        "hodConsulted": False,
    }
    body = await gql(
        """mutation($id: ID!) { updateStudentSupport(input: {studentId: $id, supportLevel: 2,
             supportNotes: "Check-in each morning"}) { student { supportLevel supportNotes } } }""",
        {"id": sid},
        token=token,
    )
    assert body["data"]["updateStudentSupport"]["student"]["supportLevel"] == 2
    body = await gql(
        """mutation($id: ID!) { createIntervention(input: {studentId: $id, tier: 2,
             type: "Check-in/check-out", notes: "Daily with the pastoral lead"}) {
             intervention { id tier status owner student { id } } errors { field code } } }""",
        {"id": sid},
        token=token,
    )
    created = body["data"]["createIntervention"]["intervention"]
    assert created["status"] == "PLANNED" and created["owner"] == "admin-1"
    assert created["student"]["id"] == sid
    body = await gql(
        """mutation($id: ID!, $end: Date!) { updateIntervention(input: {id: $id,
             status: COMPLETED, endDate: $end}) { intervention { status endDate } errors { field } } }""",
        {"id": created["id"], "end": "1999-01-01"},
        token=token,
    )
    assert body["data"]["updateIntervention"]["errors"] == [{"field": "endDate"}]
    body = await gql(
        """mutation($id: ID!, $end: Date!) { updateIntervention(input: {id: $id,
             status: COMPLETED, endDate: $end}) { intervention { status endDate } errors { field } } }""",
        {"id": created["id"], "end": date.today().isoformat()},
        token=token,
    )
    assert body["data"]["updateIntervention"]["intervention"]["status"] == "COMPLETED"
    await gql(
        """mutation($id: ID!, $on: Date!) { recordAttendance(input: {days: [{studentId: $id,
             day: $on, allDayCode: "E"}]}) { errors { code } } }""",
        {"id": sid, "on": date.today().isoformat()},
        token=token,
    )
    await gql(
        """mutation($id: ID!, $on: Date!) { recordAssessment(input: {studentId: $id, kind: EXAM,
             subject: "Science", name: "Unit 3", takenOn: $on, score: 31, maxScore: 40}) {
             errors { code } } }""",
        {"id": sid, "on": date.today().isoformat()},
        token=token,
    )
    assert await _actions(db, org) == [
        "student.create",
        "incident.log",
        "incident.update",
        "student.update_support",
        "intervention.create",
        "intervention.update",
        "attendance.record",
        "assessment.record",
    ]
    async with db.transaction(org.id) as session:
        update = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "incident.update"))
        ).scalar_one()
    assert update.actor_sub == "admin-1" and update.actor_role == "ADMIN"
    assert update.before is not None and update.before["parent_meeting_scheduled"] is False
    assert update.after is not None and update.after["parent_meeting_scheduled"] is True


async def test_admins_read_the_audit_log(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "AU2")
    await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "POSITIVE", "category": "effort"}},
        token=org.token(Role.TEACHER, sub="t-9"),
    )
    query = """query($f: AuditFilter) { auditLog(first: 10, filter: $f) {
        edges { node { actorSub actorRole action entityType entityId after } } } }"""
    body = await gql(query, {"f": {"entityId": sid}}, token=org.token())
    entries = [e["node"] for e in body["data"]["auditLog"]["edges"]]
    assert [(e["action"], e["entityId"]) for e in entries] == [("student.create", sid)]
    assert entries[0]["after"]["external_id"] == "AU2"
    body = await gql(query, {"f": {"actorSub": "t-9"}}, token=org.token())
    (entry,) = [e["node"] for e in body["data"]["auditLog"]["edges"]]
    assert (entry["action"], entry["actorRole"], entry["entityType"]) == (
        "incident.log",
        "TEACHER",
        "Incident",
    )
    denied = await gql(query, {}, token=org.token(Role.TEACHER))
    assert denied["data"] is None and "requires role ADMIN" in denied["errors"][0]["message"]
