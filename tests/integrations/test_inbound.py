"""POST /webhooks/{key}: signed messages from other tools become incidents through the same
journey as logIncident, once per webhook-id; bad signatures, stale timestamps, oversized and
malformed bodies and unknown students are refused clearly, and what can be retried is kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from app.db import Database
from app.graphql.relay import from_global_id
from app.incidents.models import Incident
from app.integrations.models import Delivery, InboundWebhook
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.factories import make_student

CREATE = """mutation($name: String!) { createWebhookSource(name: $name) {
  source { id name key path active } secret errors { field message code } } }"""


async def source(gql: GraphQLClient, org: Org, name: str = "ClassCharts") -> tuple[str, str]:
    body = await gql(CREATE, {"name": name}, token=org.token(Role.ADMIN))
    answer = body["data"]["createWebhookSource"]
    assert answer["errors"] == [] and answer["secret"].startswith("whsec_")
    assert answer["source"]["path"] == f"/webhooks/{answer['source']['key']}"
    return answer["source"]["key"], answer["secret"]


def message(external_id: str, **data: Any) -> dict[str, Any]:
    return {
        "type": "incident.logged",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "studentExternalId": external_id,
            "kind": "NEGATIVE",
            "category": "Disruption",
            "note": "Shouting across the room.",
            **data,
        },
    }


async def post(
    gql: GraphQLClient,
    key: str,
    secret: str | None,
    body: bytes | dict[str, Any],
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
    signed_with: str | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    at = at or datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
    }
    if secret is not None:
        headers["webhook-signature"] = Webhook(signed_with or secret).sign(msg_id, at, raw)
    return await gql.http.post(f"/webhooks/{key}", content=raw, headers=headers)


async def _count(db: Database, org: Org, model: Any) -> int:
    async with db.transaction(org.id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_signed_message_becomes_an_incident_once(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    key, secret = await source(gql, org)
    student = await make_student(db, org, external_id="CC-1")
    # Our own outbound pushes apply to it as to a console incident.
    await gql(
        'mutation { createIntegrationEndpoint(input: {name: "BM", kind: '
        'BEHAVIOUR_MANAGEMENT, url: "https://bm.example/h"}) { errors { code } } }',
        token=org.token(Role.ADMIN),
    )
    sent = message("CC-1")
    first = await post(gql, key, secret, sent, msg_id="msg_1")
    assert first.status_code == 200, first.text
    incident_id = uuid.UUID(first.json()["incidentId"])
    replay = await post(gql, key, secret, sent, msg_id="msg_1")
    assert replay.status_code == 200 and replay.json() == first.json()
    async with db.transaction(org.id) as session:
        incident = await session.get(Incident, incident_id)
        incidents = await session.scalar(select(func.count()).select_from(Incident))
    assert incident is not None and incidents == 1
    assert incident.student_id == student.id and incident.source == "webhook:ClassCharts"
    assert incident.strike_level == 1 and incident.note == "Shouting across the room."
    assert incident.logged_by == "webhook:ClassCharts"
    assert await _count(db, org, Delivery) == 1


async def test_bad_signatures_stale_timestamps_and_unknown_sources_store_nothing(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    key, secret = await source(gql, org)
    await make_student(db, org, external_id="CC-2")
    forged = await post(gql, key, secret, message("CC-2"), signed_with="whsec_" + "QUFB" * 8)
    assert forged.status_code == 401 and "signature" in forged.json()["error"]
    unsigned = await post(gql, key, None, message("CC-2"))
    assert unsigned.status_code == 401
    stale = await post(
        gql, key, secret, message("CC-2"), at=datetime.now(UTC) - timedelta(minutes=10)
    )
    assert stale.status_code == 401
    unknown = await post(gql, "nope-0000", secret, message("CC-2"))
    assert unknown.status_code == 404
    assert await _count(db, org, InboundWebhook) == 0
    assert await _count(db, org, Incident) == 0


async def test_an_oversized_body_is_refused_before_it_is_read(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    key, secret = await source(gql, org)
    huge = message("CC-3", note="x" * 70_000)
    answer = await post(gql, key, secret, huge)
    assert answer.status_code == 413
    assert await _count(db, org, InboundWebhook) == 0


async def test_bad_bodies_are_kept_and_named(gql: GraphQLClient, db: Database, org: Org) -> None:
    key, secret = await source(gql, org)
    await make_student(db, org, external_id="CC-4")
    malformed = await post(gql, key, secret, b'{"type": "incident.logged", "data": ')
    assert malformed.status_code == 422 and "not JSON" in malformed.json()["error"]
    invalid = await post(
        gql, key, secret, message("CC-4", kind="BAD", category=None, occurredAt="yesterday")
    )
    assert invalid.status_code == 422
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert fields == {"data.kind", "data.category", "data.occurredAt"}
    assert await _count(db, org, Incident) == 0
    assert await _count(db, org, InboundWebhook) == 2


async def test_an_unknown_student_is_kept_for_review_and_retried_once_they_exist(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    key, secret = await source(gql, org)
    rejected = await post(gql, key, secret, message("CC-NEW"), msg_id="msg_new")
    assert rejected.status_code == 422
    [error] = rejected.json()["errors"]
    assert error["field"] == "data.studentExternalId" and "CC-NEW" in error["message"]
    token = org.token(Role.ADMIN)
    listed = await gql(
        "{ rejectedWebhooks(first: 10) { edges { node { id webhookId error body } } } }",
        token=token,
    )
    [node] = [e["node"] for e in listed["data"]["rejectedWebhooks"]["edges"]]
    assert node["webhookId"] == "msg_new" and "CC-NEW" in node["body"]
    retry = (
        "mutation($r: ID!) { retryRejectedWebhook(id: $r) { incident { id source } "
        "errors { field message code } } }"
    )
    still = await gql(retry, {"r": node["id"]}, token=token)
    assert still["data"]["retryRejectedWebhook"]["errors"][0]["code"] == "NOT_FOUND"
    student = await make_student(db, org, external_id="CC-NEW")
    done = await gql(retry, {"r": node["id"]}, token=token)
    incident = done["data"]["retryRejectedWebhook"]["incident"]
    assert incident["source"] == "webhook:ClassCharts"
    parsed = from_global_id(incident["id"])
    assert parsed is not None
    async with db.transaction(org.id) as session:
        row = await session.get(Incident, parsed[1])
    assert row is not None and row.student_id == student.id
    # The sender's resend of that message now answers with the incident.
    again = await post(gql, key, secret, message("CC-NEW"), msg_id="msg_new")
    assert again.status_code == 200 and again.json()["incidentId"] == str(parsed[1])
    empty = await gql("{ rejectedWebhooks(first: 10) { edges { node { id } } } }", token=token)
    assert empty["data"]["rejectedWebhooks"]["edges"] == []
