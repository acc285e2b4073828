from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class EndpointKind(enum.StrEnum):
    BEHAVIOUR_MANAGEMENT = "BEHAVIOUR_MANAGEMENT"  # negative incidents
    AT_RISK = "AT_RISK"  # strike 2 or more, or a risk tier rise
    ADMIN_ALERT = "ADMIN_ALERT"  # an incident that notifies the admin
    GENERIC = "GENERIC"  # whatever event types it subscribes to


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"  # not tried yet
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # tried, to be tried again at next_attempt_at
    DEAD = "DEAD"  # given up: too many attempts, or the endpoint answered 410 Gone


class Endpoint(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """Where an org's events are pushed. The signing secret is ours (`whsec_…`), shown once;
    after a rotation the previous one still signs until `previous_secret_expires_at`, so a
    receiver can switch without missing a delivery."""

    __tablename__ = "integration_endpoints"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[EndpointKind] = mapped_column(
        Enum(EndpointKind, name="endpoint_kind"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    # None: every event type the kind triggers on.
    event_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(UUIDPrimaryKey, OrgOwned, Base):
    """One event for one endpoint: the outbox row, written in the change's transaction.
    Its id is the `webhook-id` a receiver dedupes by; its state (attempts, the next one, a
    worker's lease) lives here, not in the queue."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where="status IN ('PENDING', 'FAILED')",
        ),
        Index("ix_webhook_deliveries_org_created", "org_id", "created_at", "id"),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_endpoints.id", ondelete="CASCADE"), nullable=False, index=True
    )
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, name="delivery_status"), nullable=False
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A worker posting it holds it until then (a crashed worker's lease runs out).
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attempt(UUIDPrimaryKey, OrgOwned, Base):
    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)


class InboundStatus(enum.StrEnum):
    ACCEPTED = "ACCEPTED"  # became an incident
    REJECTED = "REJECTED"  # kept for an admin to review (an unknown student, a bad body)


class WebhookSource(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """Another tool that pushes incidents to us, at POST /webhooks/{key}, signing with our
    secret (Standard Webhooks)."""

    __tablename__ = "webhook_sources"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class InboundWebhook(UUIDPrimaryKey, OrgOwned, Base):
    """One message a source sent, by its webhook-id: a replay answers what the first got."""

    __tablename__ = "inbound_webhooks"
    __table_args__ = (
        UniqueConstraint("source_id", "webhook_id"),
        Index("ix_inbound_webhooks_org_status", "org_id", "status", "received_at", "id"),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_sources.id", ondelete="CASCADE"), nullable=False
    )
    webhook_id: Mapped[str] = mapped_column(String(200), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    status: Mapped[InboundStatus] = mapped_column(
        Enum(InboundStatus, name="inbound_status"), nullable=False
    )
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    raw: Mapped[str | None] = mapped_column(Text)  # a body that was not JSON, as sent
    error: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL")
    )


class SyncStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"  # every row imported (or unchanged)
    PARTIAL = "PARTIAL"  # some rows rejected: see its import job's errors
    FAILED = "FAILED"  # nothing imported: the sheet could not be read (see `error`)


class SyncSource(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """A Google Sheet of students synced into the roster every `interval_hours` (one way)."""

    __tablename__ = "sync_sources"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    spreadsheet_id: Mapped[str] = mapped_column(String(200), nullable=False)
    range: Mapped[str] = mapped_column(String(200), nullable=False)
    # Where the service-account JSON is: "env:NAME" (an environment variable of the worker)
    # or "file:/path" (a file the worker can read). Never the key itself.
    credentials: Mapped[str] = mapped_column(String(500), nullable=False)
    interval_hours: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=6)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    next_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SyncRun(UUIDPrimaryKey, OrgOwned, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_source_started", "source_id", "started_at"),)

    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_sources.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[SyncStatus] = mapped_column(Enum(SyncStatus, name="sync_status"), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    import_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="SET NULL")
    )
