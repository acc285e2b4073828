"""Integration endpoints and their deliveries: the rules (ADMIN only, checked URLs, our
secrets, rotation with overlap, redelivery), called by GraphQL and by jobs alike."""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.core.pagination import Page, PageRequest, SortKey, apply_keyset, to_page
from app.events.service import DELIVERIES
from app.integrations.delivery import check_url
from app.integrations.models import Attempt, Delivery, DeliveryStatus, Endpoint, EndpointKind
from app.integrations.outbox import EVENT_TYPES, TEST_EVENT

# How long the previous secret still signs after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
NEWEST_FIRST = (SortKey(Delivery.created_at, descending=True), SortKey(Delivery.id))


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class EndpointChanges:
    name: str | None = None
    kind: EndpointKind | None = None
    url: str | None = None
    event_types: list[str] | None = None
    active: bool | None = None
    clear_event_types: bool = False


def _clean(changes: EndpointChanges, *, allow_private: bool, creating: bool) -> dict[str, Any]:
    v = Validator()
    values: dict[str, Any] = {}
    if changes.name is not None or creating:
        values["name"] = v.text("name", changes.name, max_length=100, required=True)
    if changes.kind is not None:
        values["kind"] = changes.kind
    if changes.url is not None or creating:
        try:
            values["url"] = check_url(changes.url or "", allow_private=allow_private)
        except ServiceError as exc:
            v.errors.extend(exc.errors)
        # (check_url resolves the host: the callers run this in a thread.)
    if changes.event_types is not None:
        unknown = sorted(set(changes.event_types) - set(EVENT_TYPES))
        if unknown:
            v.errors.append(
                FieldError(
                    "eventTypes",
                    f"unknown event type {', '.join(unknown)}; one of {', '.join(EVENT_TYPES)}",
                    ErrorCode.INVALID,
                )
            )
        values["event_types"] = sorted(set(changes.event_types)) or None
    elif changes.clear_event_types:
        values["event_types"] = None
    if changes.active is not None:
        values["active"] = changes.active
        if changes.active:
            values["disabled_reason"] = None
    v.raise_if_any()
    return values


async def create(
    session: AsyncSession, *, actor: Principal, changes: EndpointChanges, allow_private: bool
) -> tuple[Endpoint, str]:
    """A new endpoint, and its secret (shown this once)."""
    values = await asyncio.to_thread(_clean, changes, allow_private=allow_private, creating=True)
    if changes.kind is None:
        raise ServiceError.single("kind", "give the endpoint's kind", ErrorCode.REQUIRED)
    secret = new_secret()
    endpoint = Endpoint(org_id=actor.org_id, active=True, secret=secret, **values)
    session.add(endpoint)
    await audit.record(
        session,
        actor=actor,
        action="endpoint.create",
        entity=endpoint,
        before=None,
        after=_safe(endpoint),
    )
    return endpoint, secret


def _safe(endpoint: Endpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never its secrets."""
    return {
        "name": endpoint.name,
        "kind": endpoint.kind.value if endpoint.kind else None,
        "url": endpoint.url,
        "eventTypes": endpoint.event_types,
        "active": endpoint.active,
    }


async def require(session: AsyncSession, *, org_id: uuid.UUID, endpoint_id: uuid.UUID) -> Endpoint:
    endpoint = (
        await session.execute(
            select(Endpoint).where(Endpoint.org_id == org_id, Endpoint.id == endpoint_id)
        )
    ).scalar_one_or_none()
    if endpoint is None:
        raise ServiceError.single("id", "no such endpoint", ErrorCode.NOT_FOUND)
    return endpoint


async def update(
    session: AsyncSession,
    *,
    actor: Principal,
    endpoint_id: uuid.UUID,
    changes: EndpointChanges,
    allow_private: bool,
) -> Endpoint:
    endpoint = await require(session, org_id=actor.org_id, endpoint_id=endpoint_id)
    before = _safe(endpoint)
    cleaned = await asyncio.to_thread(_clean, changes, allow_private=allow_private, creating=False)
    for name, value in cleaned.items():
        setattr(endpoint, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="endpoint.update",
        entity=endpoint,
        before=before,
        after=_safe(endpoint),
    )
    return endpoint


async def rotate_secret(
    session: AsyncSession, *, actor: Principal, endpoint_id: uuid.UUID
) -> tuple[Endpoint, str]:
    """A new secret (shown this once); the old one still signs for ROTATION_OVERLAP, beside
    the new, so the receiver can switch without missing a delivery."""
    endpoint = await require(session, org_id=actor.org_id, endpoint_id=endpoint_id)
    now = (await session.execute(text("SELECT now()"))).scalar_one()
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = secret
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="endpoint.rotate_secret",
        entity=endpoint,
        before=_safe(endpoint),
        after=_safe(endpoint),
    )
    return endpoint, secret


async def endpoints(session: AsyncSession, *, org_id: uuid.UUID) -> list[Endpoint]:
    rows = await session.execute(
        select(Endpoint).where(Endpoint.org_id == org_id).order_by(Endpoint.created_at, Endpoint.id)
    )
    return list(rows.scalars())


async def send_test_event(
    session: AsyncSession, *, actor: Principal, endpoint_id: uuid.UUID
) -> Delivery:
    """A `test` delivery to one endpoint (active or not: checking a fixed receiver before
    turning it back on is the point), delivered as any other."""
    endpoint = await require(session, org_id=actor.org_id, endpoint_id=endpoint_id)
    now = (await session.execute(text("SELECT now()"))).scalar_one()
    delivery = Delivery(
        org_id=actor.org_id,
        endpoint_id=endpoint.id,
        event_type=TEST_EVENT,
        body={
            "type": TEST_EVENT,
            "timestamp": now.isoformat(),
            "data": {"endpointId": str(endpoint.id), "message": "Test event from schoolgraph"},
        },
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(delivery)
    await session.flush()
    await audit.record(session, actor=actor, action="endpoint.test", entity=delivery, before=None)
    _queue_after_commit(session, delivery)
    return delivery


def _queue_after_commit(session: AsyncSession, delivery: Delivery) -> None:
    """Its job is queued once the transaction commits (app.integrations.flows)."""
    queued: set[uuid.UUID] = session.info.setdefault(DELIVERIES, set())
    queued.add(delivery.id)


async def redeliver(session: AsyncSession, *, actor: Principal, delivery_id: uuid.UUID) -> Delivery:
    """Try a delivery again now, whatever its state (its attempts so far stay on record; its
    retry schedule starts over)."""
    delivery = (
        await session.execute(
            select(Delivery)
            .where(Delivery.org_id == actor.org_id, Delivery.id == delivery_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if delivery is None:
        raise ServiceError.single("id", "no such delivery", ErrorCode.NOT_FOUND)
    before = {"status": delivery.status.value, "attempts": delivery.attempts}
    now = (await session.execute(text("SELECT now()"))).scalar_one()
    if delivery.leased_until is not None and delivery.leased_until > now:
        # A worker is posting it now: two posts at once would race to record the outcome.
        raise ServiceError.single(
            "id", "it is being delivered right now; try again in a minute", ErrorCode.CONFLICT
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.leased_until = None
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="delivery.redeliver",
        entity=delivery,
        before=before,
        after={"status": "PENDING"},
    )
    _queue_after_commit(session, delivery)
    return delivery


@dataclass(frozen=True)
class DeliveryFilter:
    status: DeliveryStatus | None = None
    endpoint_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None


async def deliveries_page(
    session: AsyncSession, *, org_id: uuid.UUID, f: DeliveryFilter, page: PageRequest
) -> Page[Delivery]:
    stmt = select(Delivery).where(Delivery.org_id == org_id)
    if f.status is not None:
        stmt = stmt.where(Delivery.status == f.status)
    if f.endpoint_id is not None:
        stmt = stmt.where(Delivery.endpoint_id == f.endpoint_id)
    if f.start is not None:
        stmt = stmt.where(Delivery.created_at >= f.start)
    if f.end is not None:
        stmt = stmt.where(Delivery.created_at < f.end)
    stmt = apply_keyset(stmt, NEWEST_FIRST, page)
    return to_page((await session.execute(stmt)).scalars().all(), NEWEST_FIRST, page)


async def attempts_of(
    session: AsyncSession, *, org_id: uuid.UUID, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Attempt]]:
    rows = await session.execute(
        select(Attempt)
        .where(Attempt.org_id == org_id, Attempt.delivery_id.in_(delivery_ids))
        .order_by(Attempt.at, Attempt.id)
    )
    found: dict[uuid.UUID, list[Attempt]] = {}
    for attempt in rows.scalars():
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found
