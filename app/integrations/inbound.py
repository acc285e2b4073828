"""Incidents other tools push to us: POST /webhooks/{key}, signed per the Standard Webhooks
spec with the source's secret. A verified message is logged through the same journey as the
console's logIncident (strikes, risk, events, our own outbound pushes), once per webhook-id;
one that cannot be (an unknown student, a bad body) is kept for an admin to review and retry.

The body: {"type": "incident.logged", "timestamp": ..., "data": {"studentExternalId",
"kind" (POSITIVE | NEGATIVE | NEUTRAL), "category", "note"?, "occurredAt"?, "points"?}}."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.core.pagination import Page, PageRequest, SortKey, apply_keyset, to_page
from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import IncidentKind
from app.integrations.models import InboundStatus, InboundWebhook, WebhookSource
from app.integrations.service import new_secret
from app.orgs.models import Org, Role
from app.students.models import Student

NEWEST_FIRST = (SortKey(InboundWebhook.received_at, descending=True), SortKey(InboundWebhook.id))


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


# -- sources ------------------------------------------------------------------------------


async def create_source(
    session: AsyncSession, *, actor: Principal, name: str
) -> tuple[WebhookSource, str]:
    """A new source and its secret (shown this once). Its key (the URL's last segment) is
    its name and a random suffix: unguessable, and unique across organisations."""
    v = Validator()
    cleaned = v.text("name", name, max_length=100, required=True)
    v.raise_if_any()
    assert cleaned is not None
    slug = re.sub(r"[^a-z0-9]+", "-", cleaned.lower()).strip("-")[:40] or "source"
    secret = new_secret()
    source = WebhookSource(
        org_id=actor.org_id,
        name=cleaned,
        key=f"{slug}-{secrets.token_hex(8)}",
        secret=secret,
        active=True,
    )
    session.add(source)
    await audit.record(
        session,
        actor=actor,
        action="webhook_source.create",
        entity=source,
        before=None,
        after={"name": cleaned, "key": source.key},
    )
    return source, secret


async def sources(session: AsyncSession, *, org_id: uuid.UUID) -> list[WebhookSource]:
    rows = await session.execute(
        select(WebhookSource)
        .where(WebhookSource.org_id == org_id)
        .order_by(WebhookSource.created_at, WebhookSource.id)
    )
    return list(rows.scalars())


# -- receiving ----------------------------------------------------------------------------


def acting_as(source: WebhookSource, org_slug: str) -> Principal:
    """Who a source's incidents are logged (and audited) as, when sent and when retried."""
    return Principal(
        sub=f"webhook:{source.name}"[:200],
        role=Role.INTEGRATION,
        org_id=source.org_id,
        org_slug=org_slug,
    )


async def receive(db: Database, key: str, body: bytes, headers: dict[str, str]) -> Answer:
    """What POST /webhooks/{key} answers. Nothing is stored unless the signature holds."""
    async with db.admin_transaction() as session:
        found = (
            await session.execute(
                select(WebhookSource, Org.slug)
                .join(Org, Org.id == WebhookSource.org_id)
                .where(WebhookSource.key == key, WebhookSource.active)
            )
        ).first()
    if found is None:
        return Answer(404, {"error": "no such webhook source"})
    source, org_slug = found
    try:
        Webhook(source.secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as exc:
        return Answer(401, {"error": f"signature verification failed: {exc}"})
    webhook_id = {k.lower(): v for k, v in headers.items()}["webhook-id"][:200]
    actor = acting_as(source, org_slug)
    prior = await _prior(db, source, webhook_id)
    if prior is not None:
        return _answer_of(prior)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return await _reject(
            db,
            source,
            webhook_id,
            None,
            body.decode("utf-8", "replace")[:10_000],
            [FieldError(None, f"the body is not JSON: {exc}", ErrorCode.INVALID)],
        )
    return await _accept(db, actor, source, webhook_id, payload)


async def _prior(db: Database, source: WebhookSource, webhook_id: str) -> InboundWebhook | None:
    async with db.transaction(source.org_id) as session:
        row: InboundWebhook | None = (
            await session.execute(
                select(InboundWebhook).where(
                    InboundWebhook.source_id == source.id,
                    InboundWebhook.webhook_id == webhook_id,
                )
            )
        ).scalar_one_or_none()
        return row


def _answer_of(row: InboundWebhook) -> Answer:
    if row.status is InboundStatus.ACCEPTED:
        return Answer(200, {"status": "ACCEPTED", "incidentId": str(row.incident_id)})
    return Answer(422, {"status": "REJECTED", "error": row.error, "id": str(row.id)})


def incident_data(payload: Any, source_name: str, client_id: uuid.UUID) -> tuple[str, Any]:
    """The student's external id and the incident of a message's `data`, or a ServiceError
    naming each bad field (`data.category`, ...)."""
    v = Validator(prefix="data.")
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ServiceError.single("data", "the body needs a `data` object", ErrorCode.REQUIRED)
    external_id = data.get("studentExternalId")
    if not isinstance(external_id, str) or not external_id.strip():
        v.add("studentExternalId", "the student's external (SIS) id", ErrorCode.REQUIRED)
    kind = data.get("kind")
    if kind not in {k.value for k in IncidentKind}:
        v.add("kind", "one of POSITIVE, NEGATIVE, NEUTRAL", ErrorCode.INVALID)
    category = data.get("category")
    if not isinstance(category, str):
        v.add("category", "the incident's category", ErrorCode.REQUIRED)
    occurred = data.get("occurredAt")
    occurred_at = None
    if occurred is not None:
        try:
            occurred_at = datetime.fromisoformat(str(occurred))
            if occurred_at.tzinfo is None:
                raise ValueError("no time zone")
        except ValueError:
            v.add("occurredAt", "an ISO 8601 time with its offset", ErrorCode.INVALID)
    points = data.get("points")
    if points is not None and (not isinstance(points, int) or isinstance(points, bool)):
        v.add("points", "a whole number", ErrorCode.INVALID)
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        v.add("note", "text", ErrorCode.INVALID)
    v.raise_if_any()
    return str(external_id).strip(), lambda student_id: incidents.IncidentData(
        student_id=student_id,
        kind=IncidentKind(str(kind)),
        category=str(category),
        note=note,
        points=points,
        occurred_at=occurred_at,
        client_id=client_id,
        source=f"webhook:{source_name}"[:100],
    )


async def _log(
    session: AsyncSession, actor: Principal, source: WebhookSource, webhook_id: str, payload: Any
) -> uuid.UUID:
    """Log the message's incident in the caller's transaction (a ServiceError otherwise)."""
    client_id = uuid.uuid5(source.id, webhook_id)
    external_id, make = incident_data(payload, source.name, client_id)
    student_id = (
        await session.execute(
            select(Student.id).where(
                Student.org_id == actor.org_id, Student.external_id == external_id
            )
        )
    ).scalar_one_or_none()
    if student_id is None:
        raise ServiceError.single(
            "data.studentExternalId",
            f"no student with external id {external_id!r} in this organisation",
            ErrorCode.NOT_FOUND,
        )
    logged = await flows.log_incident(session, actor=actor, data=make(student_id))
    return logged.incident.id


async def _accept(
    db: Database, actor: Principal, source: WebhookSource, webhook_id: str, payload: Any
) -> Answer:
    try:
        async with db.transaction(source.org_id, generic_plans=True) as session:
            incident_id = await _log(session, actor, source, webhook_id, payload)
            session.add(
                InboundWebhook(
                    org_id=source.org_id,
                    source_id=source.id,
                    webhook_id=webhook_id,
                    status=InboundStatus.ACCEPTED,
                    payload=payload,
                    incident_id=incident_id,
                )
            )
    except ServiceError as exc:
        return await _reject(db, source, webhook_id, payload, None, exc.errors)
    except IntegrityError:
        # The same message, sent twice at once: the first one's answer.
        prior = await _prior(db, source, webhook_id)
        if prior is None:
            raise
        return _answer_of(prior)
    return Answer(200, {"status": "ACCEPTED", "incidentId": str(incident_id)})


def _message(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)


async def _reject(
    db: Database,
    source: WebhookSource,
    webhook_id: str,
    payload: Any,
    raw: str | None,
    errors: list[FieldError],
) -> Answer:
    try:
        async with db.transaction(source.org_id) as session:
            row = InboundWebhook(
                org_id=source.org_id,
                source_id=source.id,
                webhook_id=webhook_id,
                status=InboundStatus.REJECTED,
                payload=payload if isinstance(payload, dict | list) else None,
                raw=raw,
                error=_message(errors),
            )
            session.add(row)
    except IntegrityError:
        prior = await _prior(db, source, webhook_id)
        if prior is None:
            raise
        return _answer_of(prior)
    return Answer(
        422,
        {
            "status": "REJECTED",
            "id": str(row.id),
            "error": row.error,
            "errors": [{"field": e.field, "message": e.message, "code": e.code} for e in errors],
        },
    )


# -- review -------------------------------------------------------------------------------


async def rejected_page(
    session: AsyncSession, *, org_id: uuid.UUID, page: PageRequest
) -> Page[InboundWebhook]:
    stmt = select(InboundWebhook).where(
        InboundWebhook.org_id == org_id, InboundWebhook.status == InboundStatus.REJECTED
    )
    stmt = apply_keyset(stmt, NEWEST_FIRST, page)
    return to_page((await session.execute(stmt)).scalars().all(), NEWEST_FIRST, page)


async def retry_rejected(
    session: AsyncSession, *, actor: Principal, inbound_id: uuid.UUID
) -> InboundWebhook:
    """Log a rejected message's incident now (after its student was added, say), as the
    source that sent it; a ServiceError when it still cannot be."""
    row = (
        await session.execute(
            select(InboundWebhook).where(
                InboundWebhook.org_id == actor.org_id, InboundWebhook.id == inbound_id
            )
        )
    ).scalar_one_or_none()
    if row is None or row.status is not InboundStatus.REJECTED:
        raise ServiceError.single("id", "no such rejected webhook", ErrorCode.NOT_FOUND)
    if row.payload is None:
        raise ServiceError.single(
            "id", "its body was not JSON: nothing to retry", ErrorCode.INVALID
        )
    source = await session.get(WebhookSource, row.source_id)
    assert source is not None
    row.incident_id = await _log(
        session, acting_as(source, actor.org_slug), source, row.webhook_id, row.payload
    )
    row.status = InboundStatus.ACCEPTED
    row.error = None
    await audit.record(
        session,
        actor=actor,
        action="webhook.retry",
        entity=row,
        before={"status": "REJECTED"},
        after={"status": "ACCEPTED"},
    )
    return row
