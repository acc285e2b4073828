"""Nothing internal reaches a client: every mutation, forced to fail inside Postgres, answers
`Internal server error` with an errorId, and the log has the detail under that id without
the note text, the SQL parameters or the query document."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import date
from typing import Any

from app.graphql.relay import to_global_id
from app.graphql.schema import schema
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers
from tests.factories import log, make_student
from tests.support import inserts_fail

SECRET_NOTE = "unique-note-" + uuid.uuid4().hex

# One valid call of every mutation. A mutation added to the schema without an entry here
# fails test_every_mutation_is_covered: add it, so that its failure path is checked too.
MUTATIONS: dict[str, str] = {
    "logIncident": (
        "mutation($s: ID!, $n: String) { logIncident(input: {studentId: $s, kind: NEGATIVE, "
        'category: "late", note: $n}) { incident { id } errors { code } } }'
    ),
    "logIncidents": (
        "mutation($s: ID!, $n: String) { logIncidents(input: {items: [{studentId: $s, "
        'kind: POSITIVE, category: "kind", note: $n}]}) { results { index errors { field message code } } errors { code } } }'
    ),
    "updateIncident": (
        "mutation($i: ID!) { updateIncident(input: {id: $i, parentMeetingScheduled: true}) "
        "{ incident { id } errors { code } } }"
    ),
    "correctIncident": (
        "mutation($i: ID!, $n: String) { correctIncident(input: {id: $i, note: $n}) "
        "{ incident { id } errors { code } } }"
    ),
    "voidIncident": (
        "mutation($i: ID!, $n: String!) { voidIncident(input: {id: $i, reason: $n}) "
        "{ incident { id } errors { code } } }"
    ),
    "upsertStudent": (
        'mutation($n: String) { upsertStudent(input: {externalId: "MASK-NEW", name: "Ann", '
        "supportNotes: $n}) { student { id } errors { code } } }"
    ),
    "updateStudentSupport": (
        "mutation($s: ID!, $n: String) { updateStudentSupport(input: {studentId: $s, "
        "supportNotes: $n}) { student { id } errors { code } } }"
    ),
    "recordAttendance": (
        "mutation($s: ID!, $d: Date!) { recordAttendance(input: {days: [{studentId: $s, "
        'day: $d, allDayCode: "A"}]}) { days { id } errors { code } } }'
    ),
    "setAttendanceCode": (
        'mutation($n: String) { setAttendanceCode(input: {code: "Q", category: EXCUSED, '
        "description: $n}) { code { code } errors { code } } }"
    ),
    "recordAssessment": (
        "mutation($s: ID!, $d: Date!) { recordAssessment(input: {studentId: $s, kind: EXAM, "
        'subject: "MATH", takenOn: $d, score: 5, maxScore: 10}) '
        "{ errors { code } } }"
    ),
    "createIntervention": (
        "mutation($s: ID!, $n: String) { createIntervention(input: {studentId: $s, tier: 2, "
        'type: "Mentoring", notes: $n}) { intervention { id } errors { code } } }'
    ),
    "updateIntervention": (
        "mutation($v: ID!, $n: String) { updateIntervention(input: {id: $v, notes: $n}) "
        "{ intervention { id } errors { code } } }"
    ),
    "rollbackImport": (
        "mutation($j: ID!) { rollbackImport(id: $j) { job { id } errors { code } } }"
    ),
    "updateOrgPolicy": (
        "mutation { updateOrgPolicy(input: {housePoints: {positive: 2}}) { errors { code } } }"
    ),
    "reindexSearch": "mutation { reindexSearch { status { pending } errors { code } } }",
    "createIntegrationEndpoint": (
        'mutation { createIntegrationEndpoint(input: {name: "Tool", kind: GENERIC, '
        'url: "https://receiver.example/hooks"}) { endpoint { id } secret errors { code } } }'
    ),
    "updateIntegrationEndpoint": (
        'mutation($e: ID!) { updateIntegrationEndpoint(input: {id: $e, name: "Renamed"}) '
        "{ endpoint { id } errors { code } } }"
    ),
    "rotateEndpointSecret": (
        "mutation($e: ID!) { rotateEndpointSecret(id: $e) { secret errors { code } } }"
    ),
    "sendTestEvent": (
        "mutation($e: ID!) { sendTestEvent(endpointId: $e) { delivery { id } errors { code } } }"
    ),
    "redeliver": "mutation($w: ID!) { redeliver(id: $w) { delivery { id } errors { code } } }",
    "createWebhookSource": (
        'mutation { createWebhookSource(name: "Tool") { source { id } secret errors { code } } }'
    ),
    "retryRejectedWebhook": (
        "mutation($r: ID!) { retryRejectedWebhook(id: $r) { incident { id } errors { code } } }"
    ),
    "createSyncSource": (
        'mutation($k: String!) { createSyncSource(input: {name: "Sheet", spreadsheetId: "s1", '
        "credentials: $k}) { source { id } errors { code } } }"
    ),
    "updateSyncSource": (
        "mutation($y: ID!) { updateSyncSource(input: {id: $y, intervalHours: 12}) "
        "{ source { id } errors { code } } }"
    ),
    "runSyncNow": (
        "mutation($y: ID!) { runSyncNow(sourceId: $y) { source { id } errors { code } } }"
    ),
    "createIepGoal": (
        'mutation($s: ID!) { createIepGoal(input: {studentId: $s, area: "Reading", '
        'title: "Reads 80 words a minute", baseline: 40, target: 80, unit: "wcpm", '
        'direction: INCREASE, dueDate: "2099-06-30"}) { goal { id } errors { code } } }'
    ),
    "updateIepGoal": (
        "mutation($g: ID!) { updateIepGoal(input: {id: $g, target: 90}) "
        "{ goal { id } errors { code } } }"
    ),
    "recordIepProbe": (
        "mutation($g: ID!, $n: String) { recordIepProbe(input: {goalId: $g, value: 45, "
        "note: $n}) { probe { id } errors { code } } }"
    ),
    "recordIepProbes": (
        "mutation($g: ID!, $n: String) { recordIepProbes(input: {probes: [{goalId: $g, "
        "value: 46, note: $n}]}) { probes { id } errors { code } } }"
    ),
    "setIepGoalNarrative": (
        'mutation($g: ID!) { setIepGoalNarrative(input: {goalId: $g, periodStart: "2026-09-01", '
        'periodEnd: "2026-12-18", text: "Steady gains"}) { narrative { text } errors { code } } }'
    ),
    "iepProgressReport": (
        'mutation($s: ID!) { iepProgressReport(input: {studentId: $s, periodStart: "2026-09-01", '
        'periodEnd: "2026-12-18", format: PDF}) { file { id } errors { code } } }'
    ),
    "iepProgressReports": (
        "mutation($s: ID!) { iepProgressReports(input: {studentIds: [$s], periodStart: "
        '"2026-09-01", periodEnd: "2026-12-18", format: DOCX}) { file { id } errors { code } } }'
    ),
    "exportStudentRecord": (
        "mutation($s: ID!) { exportStudentRecord(studentId: $s) { file { id } errors { code } } }"
    ),
    # Last: it erases the student the others write about.
    "eraseStudent": (
        'mutation($s: ID!) { eraseStudent(studentId: $s, reason: "Parent request") '
        "{ erasure { id } errors { code } } }"
    ),
}


async def iep_goal(gql: GraphQLClient, student: str, token: str) -> str:
    """An IEP goal of `student` (a global id), for the IEP mutations' $g."""
    body = await gql(MUTATIONS["createIepGoal"], {"s": student}, token=token)
    goal_id: str = body["data"]["createIepGoal"]["goal"]["id"]
    return goal_id


async def endpoint_and_delivery(
    gql: GraphQLClient, db: Any, org: Org, token: str
) -> dict[str, str]:
    """Ids for the integration mutations: an endpoint, a delivery of it, and an inbound
    webhook rejected for a student who exists since (so that retrying it succeeds)."""
    from tests.integrations.test_inbound import message, post, source

    created = await gql(MUTATIONS["createIntegrationEndpoint"], token=token)
    endpoint = created["data"]["createIntegrationEndpoint"]["endpoint"]["id"]
    sent = await gql(MUTATIONS["sendTestEvent"], {"e": endpoint}, token=token)
    key, secret = await source(gql, org, "Setup")
    rejected = await post(gql, key, secret, message("LATER-1"))
    assert rejected.status_code == 422, rejected.text
    await make_student(db, org, external_id="LATER-1", class_code="EV1", year_group=8)
    from app.integrations.sheets import env_prefix

    key = f"env:{env_prefix(org.slug)}"
    synced = await gql(MUTATIONS["createSyncSource"], {"k": key}, token=token)
    return {
        "k": key,
        "y": synced["data"]["createSyncSource"]["source"]["id"],
        "e": endpoint,
        "w": sent["data"]["sendTestEvent"]["delivery"]["id"],
        "r": to_global_id("RejectedWebhook", uuid.UUID(rejected.json()["id"])),
    }


# Text that would mean the client saw our insides.
LEAKS = (
    "SELECT",
    "INSERT",
    "UPDATE ",
    "sqlalchemy",
    "asyncpg",
    "audit_log",
    "injected",
    "Traceback",
    "/app/",
    ".py",
    SECRET_NOTE,
)


# Mutations that take file uploads (a multipart request): their masking is tested with
# their uploads, in tests/imports/test_graphql.py.
MULTIPART = {"startImport"}


async def finished_import(db: Any, org: Org) -> Any:
    from app.imports.kinds import ImportKind
    from tests.imports.test_jobs import roster_csv, run, start

    return (await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(2))))).id


def test_every_mutation_is_covered() -> None:
    assert set(schema._schema.mutation_type.fields) == set(MUTATIONS) | MULTIPART, (
        "add the new mutation to MUTATIONS"
    )


async def test_internal_errors_are_masked_in_every_mutation(
    gql: GraphQLClient, db: Any, org: Org, servers: Servers, captured_log: io.StringIO
) -> None:
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    token = org.token(Role.ADMIN)
    created = await gql(
        MUTATIONS["createIntervention"],
        {"s": to_global_id("Student", student.id), "n": "x"},
        token=token,
    )
    variables = {
        "s": to_global_id("Student", student.id),
        "i": to_global_id("Incident", incident.id),
        "v": created["data"]["createIntervention"]["intervention"]["id"],
        "g": await iep_goal(gql, to_global_id("Student", student.id), token),
        "n": SECRET_NOTE,
        "d": date.today().isoformat(),
        "j": to_global_id("ImportJob", await finished_import(db, org)),
        **await endpoint_and_delivery(gql, db, org, token),
    }
    answers = {}
    async with inserts_fail(servers, org.id, "audit_log"):
        for mutation, document in MUTATIONS.items():
            used = {k: v for k, v in variables.items() if f"${k}" in document}
            response = await gql.raw(document, used, token)
            assert response.status_code == 200, (mutation, response.text)
            answers[mutation] = response.json()

    logged = captured_log.getvalue()
    for mutation, body in answers.items():
        if mutation == "logIncidents":  # a batch answers for each item
            assert not body.get("errors"), body
            (error,) = body["data"]["logIncidents"]["results"][0]["errors"]
            assert (error["field"], error["code"]) == ("items[0]", "INTERNAL_SERVER_ERROR")
            found = re.fullmatch(
                r"Internal server error \(errorId ([0-9a-f]{16})\)", error["message"]
            )
            assert found, error
            error_id = found[1]
        else:
            assert body.get("errors"), (mutation, body)
            (error,) = body["errors"]
            assert error["message"] == "Internal server error", (mutation, body)
            assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            error_id = error["extensions"]["errorId"]
        text = json.dumps(body)
        for leak in LEAKS:
            assert leak not in text, (mutation, leak, text)
        # The detail is in the log under the id the client was given.
        assert f"internal error {error_id}" in logged, mutation
    # What the operator needs is there (the SQLSTATE of the trigger's RAISE, the statement),
    # and not the driver's message, which can quote row values.
    assert "sqlstate=P0001" in logged and "INSERT INTO audit_log" in logged
    assert "injected fault" not in logged
    assert SECRET_NOTE not in logged
    assert "[parameters" not in logged  # hide_parameters: no bound values with the SQL
