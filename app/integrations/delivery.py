"""Posting one delivery: lease it, sign it (Standard Webhooks), post it, record the attempt,
and decide what follows (delivered; retried later with backoff; dead; the endpoint disabled
on 410 Gone). All state is in Postgres: a lost job, a dead worker or a Valkey outage costs
a delay, never a delivery (the sweep queues what is due), and a delivery posted twice (a
worker killed after the post, before it recorded it) carries the same `webhook-id`."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import random
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from prometheus_client import Counter, Histogram
from sqlalchemy import select, text
from standardwebhooks.webhooks import Webhook

from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.integrations.models import Attempt, Delivery, DeliveryStatus, Endpoint
from app.integrations.outbox import TEST_EVENT

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "schoolgraph_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, failed: to be retried, dead).",
    ["outcome"],
)
LATENCY = Histogram(
    "schoolgraph_webhook_attempt_seconds", "How long an endpoint took to answer an attempt."
)

MAX_DELAY = timedelta(hours=6)
LEASE_MARGIN = timedelta(seconds=30)
USER_AGENT = "schoolgraph-webhooks/1"


# -- URLs ---------------------------------------------------------------------------------


def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """An endpoint URL we may post to: http(s), with a host; unless `allow_private`, not a
    private, loopback, link-local or reserved address (by literal or by what the name
    resolves to), so that the API cannot be pointed at the school's own network."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        if host is not None:
            host.encode("idna")
    except (ValueError, UnicodeError):
        raise ServiceError.single(field, "not a URL", ErrorCode.INVALID) from None
    if parts.scheme not in ("http", "https") or not host:
        raise ServiceError.single(
            field, "an http:// or https:// URL with a host", ErrorCode.INVALID
        )
    if not allow_private:
        for address in _addresses(host):
            if not address.is_global:
                raise ServiceError.single(
                    field,
                    f"{host} is a private or local address; endpoints must be public",
                    ErrorCode.INVALID,
                )
    return url.strip()


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # unresolvable now: the delivery's attempt will say so
    return [ipaddress.ip_address(info[4][0]) for info in infos]


# -- the schedule -------------------------------------------------------------------------


def retry_delay(attempts: int, base_seconds: float, retry_after: float | None) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: about base * 2^(n-1), with
    ±20 % jitter (receivers recovering from an outage do not get every sender at once), or
    what the endpoint asked for with Retry-After when that is longer; at most six hours."""
    delay = base_seconds * 2 ** (attempts - 1) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(timedelta(seconds=delay), MAX_DELAY)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value):  # ASCII digits only (str.isdigit takes "²")
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# -- signing ------------------------------------------------------------------------------


def signature(endpoint: Endpoint, msg_id: str, at: datetime, body: bytes) -> str:
    """`webhook-signature`: signed with the endpoint's secret, and with the previous one
    too while a rotation's overlap lasts (a receiver verifies against either)."""
    signatures = [Webhook(endpoint.secret).sign(msg_id, at, body)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and at < expires:
        signatures.append(Webhook(endpoint.previous_secret).sign(msg_id, at, body))
    return " ".join(signatures)


def body_bytes(delivery: Delivery) -> bytes:
    return json.dumps(delivery.body, separators=(",", ":"), default=str).encode()


# -- one attempt --------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    base_seconds: float
    max_attempts: int
    timeout: float
    allow_private: bool


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    status_code: int | None
    error: str | None


async def _lease(db: Database, delivery_id: uuid.UUID, lease_seconds: float) -> Any:
    """The delivery and its endpoint, leased to this worker, when it is due and no other
    worker holds it; else None (delivered, dead, not due, or being posted elsewhere)."""
    async with db.admin_transaction() as session:
        row = (
            await session.execute(
                select(Delivery, Endpoint)
                .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
                    Delivery.next_attempt_at <= text("now()"),
                    (Delivery.leased_until.is_(None)) | (Delivery.leased_until < text("now()")),
                )
                .with_for_update(of=Delivery, skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        delivery, endpoint = row
        now = (await session.execute(text("SELECT now()"))).scalar_one()
        delivery.leased_until = now + timedelta(seconds=lease_seconds) + LEASE_MARGIN
        return delivery, endpoint


async def deliver(
    db: Database, http: httpx.AsyncClient, delivery_id: uuid.UUID, policy: Policy
) -> Outcome | None:
    """Post one delivery if it is due; its outcome, or None when it was not this run's."""
    leased = await _lease(db, delivery_id, policy.timeout)
    if leased is None:
        return None
    delivery, endpoint = leased
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    started = time.perf_counter()
    at = datetime.now(UTC)
    if not endpoint.active and delivery.event_type != TEST_EVENT:
        # Turned off (by an admin, or after a 410): not posted, tried again on the
        # schedule (a test event is posted anyway: checking a receiver before turning it
        # back on is its point).
        error = "endpoint inactive"
    else:
        try:
            # Resolving the name blocks: in a thread, not on the worker's event loop.
            await asyncio.to_thread(check_url, endpoint.url, allow_private=policy.allow_private)
            body = body_bytes(delivery)
            msg_id = str(delivery.id)
            # The whole post within the timeout (httpx's applies to each phase): the lease
            # outlives it.
            async with asyncio.timeout(policy.timeout):
                response = await http.post(
                    endpoint.url,
                    content=body,
                    headers={
                        "content-type": "application/json",
                        "user-agent": USER_AGENT,
                        "webhook-id": msg_id,
                        "webhook-timestamp": str(int(at.timestamp())),
                        "webhook-signature": signature(endpoint, msg_id, at, body),
                        "idempotency-key": msg_id,
                    },
                    timeout=policy.timeout,
                )
            status_code = response.status_code
            retry_after = parse_retry_after(response.headers.get("retry-after"), at)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except ServiceError as exc:
            error = exc.errors[0].message
        except (httpx.TimeoutException, TimeoutError):
            error = f"timed out after {policy.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        except Exception as exc:  # recorded as a failed attempt, never left leased
            log.exception("delivery %s failed unexpectedly", delivery.id)
            error = f"internal error ({type(exc).__name__})"
    duration = time.perf_counter() - started
    LATENCY.observe(duration)
    return await _record(
        db, delivery, endpoint, policy, at, status_code, error, retry_after, duration
    )


async def _record(
    db: Database,
    delivery: Delivery,
    endpoint: Endpoint,
    policy: Policy,
    at: datetime,
    status_code: int | None,
    error: str | None,
    retry_after: float | None,
    duration: float,
) -> Outcome:
    attempts = delivery.attempts + 1
    next_at: datetime | None = None
    gone = status_code == 410
    if error is None:
        status = DeliveryStatus.DELIVERED
    elif gone or attempts >= policy.max_attempts:
        status = DeliveryStatus.DEAD
    else:
        status = DeliveryStatus.FAILED
        next_at = at + retry_delay(attempts, policy.base_seconds, retry_after)
    async with db.transaction(delivery.org_id) as session:
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET status = :status, attempts = :attempts,"
                " next_attempt_at = :next_at, leased_until = NULL,"
                " delivered_at = CASE WHEN :delivered THEN now() END"
                # Only while this worker still holds it (a redelivery may have taken it).
                " WHERE id = :id AND leased_until = :lease"
            ),
            {
                "status": status.value,
                "attempts": attempts,
                "next_at": next_at,
                "delivered": status is DeliveryStatus.DELIVERED,
                "id": delivery.id,
                "lease": delivery.leased_until,
            },
        )
        session.add(
            Attempt(
                org_id=delivery.org_id,
                delivery_id=delivery.id,
                at=at,
                status_code=status_code,
                error=error,
                duration_ms=round(duration * 1000),
            )
        )
        if gone and endpoint.active:
            await session.execute(
                text(
                    "UPDATE integration_endpoints SET active = false, updated_at = now(),"
                    " disabled_reason = :why WHERE id = :id"
                ),
                {"why": f"answered 410 Gone at {at.isoformat()}", "id": endpoint.id},
            )
    DELIVERIES.labels(
        {"DELIVERED": "delivered", "FAILED": "failed", "DEAD": "dead"}[status.value]
    ).inc()
    return Outcome(status, attempts, next_at, status_code, error)


async def due(db: Database, *, limit: int = 1000) -> list[tuple[uuid.UUID, int]]:
    """Deliveries due now and not leased, across every org (the sweep queues them)."""
    async with db.admin_transaction() as session:
        rows = await session.execute(
            text(
                "SELECT id, attempts FROM webhook_deliveries"
                " WHERE status IN ('PENDING', 'FAILED') AND next_attempt_at <= now()"
                " AND (leased_until IS NULL OR leased_until < now())"
                " ORDER BY next_attempt_at LIMIT :limit"
            ),
            {"limit": limit},
        )
        return [(r.id, r.attempts) for r in rows]


def job_id(delivery_id: uuid.UUID | str, attempts: int) -> str:
    """One queued job per delivery and attempt (a sweep re-queuing it is a no-op)."""
    return f"webhook:{delivery_id}:{attempts}"
