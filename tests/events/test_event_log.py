"""The event log (app.events): every change a dashboard shows writes its event in the
change's own transaction, scoped to the student's class and year group, org by org."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.events import service as events
from app.events.models import Event
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers, make_org
from tests.factories import log, make_student
from tests.graphql.test_error_masking import (
    MUTATIONS,
    endpoint_and_delivery,
    finished_import,
    iep_goal,
)
from tests.support import inserts_fail

# The topics each mutation writes (logIncident's risk.changed only when the tier moves).
TOPICS: dict[str, set[str]] = {
    "logIncident": {"incident.logged"},
    "logIncidents": {"incident.logged"},
    "updateIncident": {"incident.updated"},
    "correctIncident": {"incident.updated"},
    "voidIncident": {"incident.updated"},
    "upsertStudent": {"student.changed"},
    "updateStudentSupport": {"student.changed"},
    "recordAttendance": {"attendance.recorded"},
    "setAttendanceCode": set(),  # a code table row: no student's picture changes yet
    "recordAssessment": {"assessment.recorded"},
    "createIntervention": {"intervention.changed"},
    "updateIntervention": {"intervention.changed"},
    "updateOrgPolicy": {"org.policy_changed"},
    # The students of the import it undoes, and the job's own progress.
    "rollbackImport": {"student.changed", "import.progress"},
    "reindexSearch": set(),  # the documents change on the worker; no student's record does
    # Integrations change no student's record.
    "createIntegrationEndpoint": set(),
    "updateIntegrationEndpoint": set(),
    "rotateEndpointSecret": set(),
    "sendTestEvent": set(),
    "redeliver": set(),
    "createWebhookSource": set(),
    # A rejected inbound webhook's incident, logged now (its risk may change too).
    "retryRejectedWebhook": {"incident.logged"},
    # A sync source (its runs, on the worker, import as a roster import does).
    "createSyncSource": set(),
    "updateSyncSource": set(),
    "runSyncNow": set(),
    "createIepGoal": {"iep.changed"},
    "updateIepGoal": {"iep.changed"},
    "recordIepProbe": {"iep.changed"},
    "recordIepProbes": {"iep.changed"},
    "setIepGoalNarrative": {"iep.changed"},
    # Files to make, on the worker (which publishes file.progress as it goes).
    "iepProgressReport": set(),
    "iepProgressReports": set(),
    "exportStudentRecord": set(),
    "eraseStudent": set(),  # the student's events go with them
}


async def _students_of(db: Any, org: Org) -> dict[str, Any]:
    from app.students.models import Student

    async with db.transaction(org.id) as session:
        rows = await session.execute(select(Student.external_id, Student.id))
        return {e: i for e, i in rows}


async def _events(db: Any, org: Org, after: int = 0) -> list[Event]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(select(Event).where(Event.id > after).order_by(Event.id))
        return list(rows.scalars())


def test_every_mutation_says_what_it_writes() -> None:
    assert set(TOPICS) == set(MUTATIONS)


async def test_each_mutation_writes_its_events_scoped_to_the_student(
    gql: GraphQLClient, db: Any, org: Org
) -> None:
    student = await make_student(db, org, class_code="EV1", year_group=8)
    incident = await log(db, org, student.id)
    token = org.token(Role.ADMIN)
    created = await gql(
        MUTATIONS["createIntervention"], {"s": to_global_id("Student", student.id)}, token=token
    )
    variables = {
        "s": to_global_id("Student", student.id),
        "i": to_global_id("Incident", incident.id),
        "v": created["data"]["createIntervention"]["intervention"]["id"],
        "g": await iep_goal(gql, to_global_id("Student", student.id), token),
        "n": "a note that must not travel in an event",
        "d": date.today().isoformat(),
        "j": to_global_id("ImportJob", await finished_import(db, org)),
        **await endpoint_and_delivery(gql, db, org, token),
    }
    imported = set((await _students_of(db, org)).values()) - {student.id}
    for mutation, document in MUTATIONS.items():
        before = await _events(db, org)
        last = before[-1].id if before else 0
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        body = await gql(document, used, token=token)
        assert "errors" not in body, (mutation, body)
        written = await _events(db, org, last)
        assert {e.topic for e in written} - {"risk.changed"} == TOPICS[mutation], mutation
        for event in written:
            assert "a note that must not travel" not in str(event.payload), mutation
            if event.topic in ("org.policy_changed", "import.progress"):
                assert event.student_id is None and event.class_code is None
            elif event.student_id == student.id:
                assert (event.class_code, event.year_group) == ("EV1", 8), mutation
            elif mutation == "rollbackImport":  # the import's own students
                assert event.student_id in imported, mutation
            elif mutation == "retryRejectedWebhook":  # the student the webhook named
                assert (event.class_code, event.year_group) == ("EV1", 8), mutation
            else:  # upsertStudent's own new student
                assert mutation == "upsertStudent", mutation
        assert all(e.txid > 0 for e in written)
    # Ids only grow, in the order things happened.
    ids = [e.id for e in await _events(db, org)]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


async def test_an_incidents_event_carries_its_facts(gql: GraphQLClient, db: Any, org: Org) -> None:
    student = await make_student(db, org, class_code="EV2", year_group=7)
    body = await gql(
        MUTATIONS["logIncident"],
        {"s": to_global_id("Student", student.id), "n": "private"},
        token=org.token(),
    )
    incident_id = body["data"]["logIncident"]["incident"]["id"]
    (event,) = [e for e in await _events(db, org) if e.topic == "incident.logged"]
    assert event.payload["kind"] == "NEGATIVE" and event.payload["category"] == "late"
    assert to_global_id("Incident", event.payload["incidentId"]) == incident_id
    assert event.payload["strikeLevel"] == 1


async def test_no_change_no_event_and_no_event_without_its_change(
    gql: GraphQLClient, db: Any, org: Org, servers: Servers
) -> None:
    """The event is in the change's transaction: a change that fails leaves no event, and an
    event that cannot be written fails its change (nothing half-done)."""
    student = await make_student(db, org)
    sid = to_global_id("Student", student.id)
    (created,) = await _events(db, org)  # the student's own creation
    assert created.topic == "student.changed" and created.payload == {"change": "create"}
    refused = await gql(
        MUTATIONS["logIncident"], {"s": to_global_id("Student", org.id)}, token=org.token()
    )
    assert refused["data"]["logIncident"]["errors"]
    assert await _events(db, org, created.id) == []
    async with inserts_fail(servers, org.id, "events"):
        failed = await gql.raw(MUTATIONS["logIncident"], {"s": sid}, org.token())
    assert failed.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    incidents = await gql(
        "query($s: ID!) { student(id: $s) { incidents { nodes { id } } } }",
        {"s": sid},
        token=org.token(),
    )
    assert incidents["data"]["student"]["incidents"]["nodes"] == []
    assert await _events(db, org, created.id) == []


async def test_a_risk_rise_is_an_event(gql: GraphQLClient, db: Any) -> None:
    org = await make_org(db, {"risk": {"behaviour_negatives": 1}})
    student = await make_student(db, org, class_code="EV3")
    await gql(
        MUTATIONS["logIncident"], {"s": to_global_id("Student", student.id)}, token=org.token()
    )
    risk = [e for e in await _events(db, org) if e.topic == "risk.changed"]
    assert len(risk) == 1 and risk[0].student_id == student.id
    assert risk[0].payload["previousTier"] == 1 and risk[0].payload["tier"] > 1
    assert risk[0].class_code == "EV3"


async def test_events_stay_in_their_org(gql: GraphQLClient, db: Any, org: Org) -> None:
    other = await make_org(db)
    student = await make_student(db, org)
    await gql(
        MUTATIONS["logIncident"], {"s": to_global_id("Student", student.id)}, token=org.token()
    )
    assert await _events(db, org)
    assert await _events(db, other) == []
    async with db.transaction(other.id) as session:  # RLS, not only the services' filter
        assert list((await session.execute(select(Event))).scalars()) == []


async def test_purge_keeps_the_retention_window(db: Any, org: Org) -> None:
    now = datetime.now(UTC)
    async with db.transaction(org.id) as session:
        for days in (30, 8, 6, 0):
            session.add(
                Event(
                    org_id=org.id,
                    topic="test.old",
                    payload={"days": days},
                    created_at=now - timedelta(days=days),
                )
            )
    deleted = await events.purge(db, retention=timedelta(days=7), now=now)
    assert deleted >= 2
    left = [e.payload["days"] for e in await _events(db, org) if e.topic == "test.old"]
    assert sorted(left) == [0, 6]


def test_the_worker_purges_hourly() -> None:
    from workers.settings import WorkerSettings

    assert "purge_events" in {job.name.split(":")[-1] for job in WorkerSettings.cron_jobs}
