"""Outbound webhooks against a real receiver on 127.0.0.1: the outbox written with the change,
signatures the Standard Webhooks reference verifier accepts, retries with backoff and
Retry-After, 410 disabling the endpoint, timeouts, dead letters, redelivery, rotation with
overlap, and a real worker delivering what a lost job left (the sweep)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from standardwebhooks.webhooks import Webhook

from app.db import Database
from app.graphql.relay import from_global_id, to_global_id
from app.incidents.models import IncidentKind
from app.integrations import delivery as D
from app.integrations import jobs
from app.integrations.models import Attempt, Delivery, DeliveryStatus, Endpoint
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers
from tests.factories import log, make_student
from tests.support import job_pool, run_worker

POLICY = D.Policy(base_seconds=30, max_attempts=4, timeout=1.0, allow_private=True)
CREATE = """mutation($name: String!, $kind: EndpointKind!, $url: String!, $types: [String!]) {
  createIntegrationEndpoint(input: {name: $name, kind: $kind, url: $url, eventTypes: $types}) {
    endpoint { id name kind url active } secret errors { field message code } } }"""


@dataclass
class Receiver:
    """A webhook receiver: answers each post from `script` (status, headers, delay), then
    200; records every request; dedupes effects by webhook-id as a receiver should."""

    url: str = ""
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    effects: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.requests.append({"headers": dict(self.headers), "body": body})
                status, headers, delay = state.script.pop(0) if state.script else (200, {}, 0.0)
            if delay:
                time.sleep(delay)
            if 200 <= status < 300:
                with state.lock:
                    state.effects.setdefault(self.headers["webhook-id"], json.loads(body))
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


async def _endpoint(
    gql: GraphQLClient,
    org: Org,
    url: str,
    kind: str = "BEHAVIOUR_MANAGEMENT",
    types: list[str] | None = None,
) -> tuple[uuid.UUID, str]:
    body = await gql(
        CREATE,
        {"name": kind.title(), "kind": kind, "url": url, "types": types},
        token=org.token(Role.ADMIN),
    )
    answer = body["data"]["createIntegrationEndpoint"]
    assert answer["errors"] == [], answer
    parsed = from_global_id(answer["endpoint"]["id"])
    assert parsed is not None
    return parsed[1], answer["secret"]


async def _deliveries(db: Database, org: Org) -> list[Delivery]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(Delivery).where(Delivery.org_id == org.id).order_by(Delivery.created_at)
        )
        return list(rows.scalars())


async def _due_now(db: Database, delivery_id: uuid.UUID) -> None:
    """As if its retry time had come."""
    async with db.admin_transaction() as session:
        await session.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = :id"),
            {"id": delivery_id},
        )


async def test_endpoints_are_admin_only_checked_and_their_secret_shown_once(
    gql: GraphQLClient, org: Org
) -> None:
    denied = await gql(
        CREATE,
        {"name": "x", "kind": "GENERIC", "url": "https://a.example/h"},
        token=org.token(Role.TEACHER),
    )
    assert denied["data"] is None and "ADMIN" in denied["errors"][0]["message"]
    bad = await gql(
        CREATE,
        {
            "name": "x",
            "kind": "GENERIC",
            "url": "ftp://a.example/h",
            "types": ["incident.logged", "nope"],
        },
        token=org.token(Role.ADMIN),
    )
    errors = {e["field"]: e["code"] for e in bad["data"]["createIntegrationEndpoint"]["errors"]}
    assert errors == {"url": "INVALID", "eventTypes": "INVALID"}
    endpoint_id, secret = await _endpoint(gql, org, "https://a.example/h", "GENERIC")
    assert secret.startswith("whsec_")
    listed = await gql(
        "{ integrationEndpoints { id name kind active eventTypes } }", token=org.token(Role.ADMIN)
    )
    assert listed["data"]["integrationEndpoints"] == [
        {
            "id": to_global_id("IntegrationEndpoint", endpoint_id),
            "name": "Generic",
            "kind": "GENERIC",
            "active": True,
            "eventTypes": None,
        }
    ]
    assert "whsec_" not in json.dumps(listed)


def test_private_addresses_are_refused_unless_allowed() -> None:
    from app.core.errors import ServiceError

    for url in (
        "http://127.0.0.1/h",
        "http://10.1.2.3/h",
        "http://169.254.169.254/latest",
        "http://[::1]/h",
        "http://localhost/h",
    ):
        with pytest.raises(ServiceError) as refused:
            D.check_url(url, allow_private=False)
        assert "private or local" in refused.value.errors[0].message
        assert D.check_url(url, allow_private=True) == url
    assert D.check_url("https://93.184.215.14/h", allow_private=False)


async def test_a_negative_incident_writes_its_deliveries_in_its_own_transaction(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    behaviour, _ = await _endpoint(gql, org, "https://bm.example/h", "BEHAVIOUR_MANAGEMENT")
    at_risk, _ = await _endpoint(gql, org, "https://risk.example/h", "AT_RISK")
    alert, _ = await _endpoint(gql, org, "https://admin.example/h", "ADMIN_ALERT")
    generic, _ = await _endpoint(gql, org, "https://gen.example/h", "GENERIC", ["incident.logged"])
    student = await make_student(db, org, external_id="SIS-77")
    await log(db, org, student.id, IncidentKind.POSITIVE)
    got = await _deliveries(db, org)
    assert [(d.endpoint_id, d.event_type) for d in got] == [(generic, "incident.logged")]
    # Negatives at strikes 1, 1, 2 (two negatives a strike; strike 2 notifies the admin),
    # and three negatives in a week raise the risk tier.
    for _ in range(3):
        await log(db, org, student.id)
    got = await _deliveries(db, org)
    by_endpoint: dict[uuid.UUID, list[str]] = {}
    for d in got:
        by_endpoint.setdefault(d.endpoint_id, []).append(d.event_type)
    assert by_endpoint[behaviour] == ["incident.logged"] * 3, by_endpoint
    assert by_endpoint[alert] == ["incident.admin_notified"]
    assert by_endpoint[generic] == ["incident.logged"] * 4
    risk_bodies = [d.body["data"] for d in got if d.endpoint_id == at_risk]
    assert {b["reason"] for b in risk_bodies} == {"strike", "tier_rise"}, risk_bodies
    assert set(by_endpoint[at_risk]) == {"risk.changed"}
    body = next(d.body for d in got if d.endpoint_id == at_risk)
    assert body["type"] == "risk.changed" and body["timestamp"]
    strike = next(b for b in risk_bodies if b["reason"] == "strike")
    assert strike["studentExternalId"] == "SIS-77" and strike["strikeLevel"] == 2
    assert strike["action"] == "flag_for_review" and strike["recentIncidentCount"] == 3
    note = next(d.body for d in got if d.endpoint_id == behaviour)["data"]
    assert note["incidentType"] == "disruptive" and note["strikeLevel"] == 1
    assert note["source"] == "console" and note["kind"] == "NEGATIVE"
    assert all(d.status is DeliveryStatus.PENDING and d.attempts == 0 for d in got)


async def test_a_delivery_is_signed_retried_with_backoff_and_delivered_once(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    endpoint_id, secret = await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    receiver.script = [(500, {}, 0.0), (503, {}, 0.0)]
    async with httpx.AsyncClient() as http:
        first = await D.deliver(db, http, d.id, POLICY)
        assert first is not None and first.status is DeliveryStatus.FAILED
        assert first.status_code == 500 and first.attempts == 1
        # About 30 s (±20 %) after the first failure, then about 60 s.
        assert first.next_attempt_at is not None
        wait = (first.next_attempt_at - datetime.now(UTC)).total_seconds()
        assert 20 < wait <= 36
        assert await D.deliver(db, http, d.id, POLICY) is None  # not due yet: nothing sent
        await _due_now(db, d.id)
        second = await D.deliver(db, http, d.id, POLICY)
        assert second is not None and second.status is DeliveryStatus.FAILED
        assert second.next_attempt_at is not None
        wait = (second.next_attempt_at - datetime.now(UTC)).total_seconds()
        assert 44 < wait <= 72
        await _due_now(db, d.id)
        third = await D.deliver(db, http, d.id, POLICY)
        assert third is not None and third.status is DeliveryStatus.DELIVERED
        assert await D.deliver(db, http, d.id, POLICY) is None  # delivered: never again
    assert len(receiver.requests) == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {str(d.id)} and list(receiver.effects) == [str(d.id)]
    # The reference verifier accepts what we sent.
    last = receiver.requests[-1]
    verified = Webhook(secret).verify(last["body"], last["headers"])
    assert verified["type"] == "incident.logged" and verified["data"]["studentId"]
    assert last["headers"]["idempotency-key"] == str(d.id)
    async with db.transaction(org.id) as session:
        attempts = (
            await session.execute(
                select(Attempt.status_code, Attempt.error)
                .where(Attempt.delivery_id == d.id)
                .order_by(Attempt.at)
            )
        ).all()
    assert attempts == [(500, "HTTP 500"), (503, "HTTP 503"), (200, None)]
    listed = await gql(
        "query($e: ID!) { deliveries(filter: {endpointId: $e, status: DELIVERED}) { edges "
        "{ node { status eventType attempts { statusCode error durationMs } nextAttemptAt "
        "} } } }",
        {"e": to_global_id("IntegrationEndpoint", endpoint_id)},
        token=org.token(Role.ADMIN),
    )
    [node] = [e["node"] for e in listed["data"]["deliveries"]["edges"]]
    assert node["status"] == "DELIVERED" and node["nextAttemptAt"] is None
    assert [a["statusCode"] for a in node["attempts"]] == [500, 503, 200]


async def test_retry_after_is_honoured_and_410_disables_the_endpoint(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    endpoint_id, _ = await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    receiver.script = [(429, {"Retry-After": "600"}, 0.0), (410, {}, 0.0)]
    async with httpx.AsyncClient() as http:
        limited = await D.deliver(db, http, d.id, POLICY)
        assert limited is not None and limited.next_attempt_at is not None
        assert (limited.next_attempt_at - datetime.now(UTC)).total_seconds() > 590
        await _due_now(db, d.id)
        gone = await D.deliver(db, http, d.id, POLICY)
    assert gone is not None and gone.status is DeliveryStatus.DEAD
    async with db.transaction(org.id) as session:
        endpoint = await session.get(Endpoint, endpoint_id)
    assert endpoint is not None and not endpoint.active
    assert "410" in (endpoint.disabled_reason or "")
    # A disabled endpoint gets no new deliveries.
    await log(db, org, student.id, IncidentKind.NEGATIVE)
    assert len(await _deliveries(db, org)) == 1


async def test_timeouts_retry_and_too_many_attempts_is_dead_until_redelivered(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    receiver.script = [(200, {}, 2.5)] + [(500, {}, 0.0)] * 3
    async with httpx.AsyncClient() as http:
        slow = await D.deliver(db, http, d.id, POLICY)
        assert slow is not None and slow.status is DeliveryStatus.FAILED
        assert slow.error == "timed out after 1 s" and slow.status_code is None
        for _ in range(3):
            await _due_now(db, d.id)
            outcome = await D.deliver(db, http, d.id, POLICY)
        assert outcome is not None and outcome.status is DeliveryStatus.DEAD
        assert outcome.attempts == POLICY.max_attempts
        redone = await gql(
            "mutation($w: ID!) { redeliver(id: $w) { delivery { status } errors { code } } }",
            {"w": to_global_id("Delivery", d.id)},
            token=org.token(Role.ADMIN),
        )
        assert redone["data"]["redeliver"]["delivery"]["status"] == "PENDING"
        again = await D.deliver(db, http, d.id, POLICY)
    assert again is not None and again.status is DeliveryStatus.DELIVERED


async def test_a_rotated_secret_signs_beside_the_old_one(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    endpoint_id, old = await _endpoint(gql, org, receiver.url, "GENERIC")
    rotated = await gql(
        "mutation($e: ID!) { rotateEndpointSecret(id: $e) { secret endpoint "
        "{ previousSecretExpiresAt } errors { code } } }",
        {"e": to_global_id("IntegrationEndpoint", endpoint_id)},
        token=org.token(Role.ADMIN),
    )
    new = rotated["data"]["rotateEndpointSecret"]["secret"]
    assert new.startswith("whsec_") and new != old
    sent = await gql(
        "mutation($e: ID!) { sendTestEvent(endpointId: $e) { delivery { id status eventType } "
        "errors { code } } }",
        {"e": to_global_id("IntegrationEndpoint", endpoint_id)},
        token=org.token(Role.ADMIN),
    )
    assert sent["data"]["sendTestEvent"]["delivery"]["eventType"] == "test"
    [d] = await _deliveries(db, org)
    async with httpx.AsyncClient() as http:
        done = await D.deliver(db, http, d.id, POLICY)
    assert done is not None and done.status is DeliveryStatus.DELIVERED
    [request] = receiver.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "test"


async def test_a_real_worker_delivers_what_the_queue_lost(
    gql: GraphQLClient,
    db: Database,
    org: Org,
    receiver: Receiver,
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `db` has no after-commit hooks: as if Valkey were down when these committed.
    await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    for _ in range(3):
        await log(db, org, student.id)
    written = await _deliveries(db, org)
    assert len(written) == 3
    assert {d.id for d in written} <= {i for i, _ in await D.due(db)}
    await run_worker(
        servers,
        monkeypatch,
        *[("deliver_webhook", str(d.id)) for d in written],
        env={"WEBHOOK_ALLOW_PRIVATE_URLS": "true"},
    )
    assert sorted(receiver.effects) == sorted(str(d.id) for d in written)
    assert len(receiver.requests) == 3
    assert {d.status for d in await _deliveries(db, org)} == {DeliveryStatus.DELIVERED}


async def test_the_sweep_queues_due_deliveries_once_each(
    db: Database, org: Org, gql: GraphQLClient, servers: Servers
) -> None:
    await _endpoint(gql, org, "https://bm.example/h")
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    queue = "test-webhook-sweep:" + uuid.uuid4().hex
    async with job_pool(servers.redis_url, queue) as pool:
        first = await jobs.sweep_webhooks({"db": db, "redis": pool})
        assert first >= 1
        assert await pool.exists(f"arq:job:{D.job_id(d.id, 0)}")
        # Queued already under that attempt's id: the next sweep does not queue it twice.
        await jobs.sweep_webhooks({"db": db, "redis": pool})
        assert await pool.zcard(queue) == first


def test_backoff_is_capped_and_retry_after_dates_parse() -> None:
    assert D.retry_delay(30, 30, None) == D.MAX_DELAY
    assert D.retry_delay(1, 30, 3600).total_seconds() == 3600
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert D.parse_retry_after("Mon, 07 Dec 2026 12:02:00 GMT", now) == 120
    assert D.parse_retry_after("soon", now) is None
    assert D.parse_retry_after("45", now) == 45
    assert timedelta(seconds=24) <= D.retry_delay(1, 30, None) <= timedelta(seconds=36)


async def test_notifying_the_admin_afterwards_alerts_the_admin_tool(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    from app.incidents import service as incidents

    alert, _ = await _endpoint(gql, org, "https://admin.example/h", "ADMIN_ALERT")
    student = await make_student(db, org)
    incident = await log(db, org, student.id)  # strike 1: the admin is not notified
    assert await _deliveries(db, org) == []
    for _ in range(2):  # setting it twice alerts once
        async with db.transaction(org.id) as session:
            await incidents.update_flags(
                session, actor=org.principal(), incident_id=incident.id, admin_notified=True
            )
    [d] = await _deliveries(db, org)
    assert (d.endpoint_id, d.event_type) == (alert, "incident.admin_notified")
    assert d.body["data"]["incidentId"] == str(incident.id) and d.body["data"]["adminNotified"]


async def test_the_job_queues_its_next_attempt_for_its_time(
    gql: GraphQLClient,
    db: Database,
    org: Org,
    receiver: Receiver,
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.config import get_settings

    await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    receiver.script = [(503, {}, 0.0)]
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    queue = "test-webhook-job:" + uuid.uuid4().hex
    try:
        async with job_pool(servers.redis_url, queue) as pool:
            ctx: dict[str, Any] = {"db": db, "redis": pool}
            try:
                result = await jobs.deliver_webhook(ctx, str(d.id))
            finally:
                await ctx["http"].aclose()
            assert result == {"status": "FAILED", "attempts": 1, "statusCode": 503}
            # Its second attempt waits in the queue for its time (arq's deferred job).
            score = await pool.zscore(queue, D.job_id(d.id, 1))
    finally:
        get_settings.cache_clear()
    [failed] = await _deliveries(db, org)
    assert failed.next_attempt_at is not None and score is not None
    assert abs(score / 1000 - failed.next_attempt_at.timestamp()) < 1


async def test_odd_answers_are_recorded_not_left_leased(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    receiver.script = [(503, {"Retry-After": "\u00b2"}, 0.0)]  # a digit str.isdigit likes
    async with httpx.AsyncClient() as http:
        outcome = await D.deliver(db, http, d.id, POLICY)
    assert outcome is not None and outcome.status is DeliveryStatus.FAILED
    [failed] = await _deliveries(db, org)
    assert failed.attempts == 1 and failed.leased_until is None


async def test_an_inactive_endpoint_gets_test_events_and_keeps_the_rest_for_later(
    gql: GraphQLClient, db: Database, org: Org, receiver: Receiver
) -> None:
    endpoint_id, _ = await _endpoint(gql, org, receiver.url)
    student = await make_student(db, org)
    await log(db, org, student.id)
    token = org.token(Role.ADMIN)
    gid = to_global_id("IntegrationEndpoint", endpoint_id)
    off = await gql(
        "mutation($e: ID!) { updateIntegrationEndpoint(input: {id: $e, active: "
        "false}) { endpoint { active } errors { code } } }",
        {"e": gid},
        token=token,
    )
    assert off["data"]["updateIntegrationEndpoint"]["endpoint"]["active"] is False
    await gql(
        "mutation($e: ID!) { sendTestEvent(endpointId: $e) { errors { code } } }",
        {"e": gid},
        token=token,
    )
    pending, test = await _deliveries(db, org)
    async with httpx.AsyncClient() as http:
        held = await D.deliver(db, http, pending.id, POLICY)
        checked = await D.deliver(db, http, test.id, POLICY)
    assert held is not None and held.status is DeliveryStatus.FAILED  # not DEAD: later
    assert checked is not None and checked.status is DeliveryStatus.DELIVERED
    assert [json.loads(r["body"])["type"] for r in receiver.requests] == ["test"]


async def test_a_delivery_being_posted_cannot_be_redelivered_at_the_same_time(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    await _endpoint(gql, org, "https://bm.example/h")
    student = await make_student(db, org)
    await log(db, org, student.id)
    [d] = await _deliveries(db, org)
    assert await D._lease(db, d.id, 15) is not None  # a worker holds it
    answer = await gql(
        "mutation($w: ID!) { redeliver(id: $w) { delivery { id } errors { field code } } }",
        {"w": to_global_id("Delivery", d.id)},
        token=org.token(Role.ADMIN),
    )
    assert answer["data"]["redeliver"]["errors"] == [{"field": "id", "code": "CONFLICT"}]
