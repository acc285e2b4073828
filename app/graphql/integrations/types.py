"""Integration endpoints and webhook deliveries as the graph shows them (ADMIN only)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.context import Info
from app.graphql.dataloaders import OrgLoader
from app.graphql.relay import Node, to_global_id
from app.integrations import service
from app.integrations.models import Attempt as AttemptModel
from app.integrations.models import Delivery as DeliveryModel
from app.integrations.models import DeliveryStatus as _Status
from app.integrations.models import Endpoint as EndpointModel
from app.integrations.models import EndpointKind as _Kind
from app.integrations.models import InboundWebhook as InboundWebhookModel
from app.integrations.models import SyncRun as SyncRunModel
from app.integrations.models import SyncSource as SyncSourceModel
from app.integrations.models import SyncStatus as _SyncStatus
from app.integrations.models import WebhookSource as WebhookSourceModel

EndpointKind = strawberry.enum(
    _Kind,
    name="EndpointKind",
    description="BEHAVIOUR_MANAGEMENT: negative incidents; AT_RISK: strike 2 or more, or a "
    "risk tier rise; ADMIN_ALERT: incidents that notify the admin; GENERIC: the event types "
    "it subscribes to.",
)
DeliveryStatus = strawberry.enum(_Status, name="DeliveryStatus")


@strawberry.type(description="Where the organisation's events are pushed (signed webhooks).")
class IntegrationEndpoint(Node):
    model: strawberry.Private[EndpointModel]
    name: str
    kind: EndpointKind  # type: ignore[valid-type]
    url: str
    event_types: list[str] | None = strawberry.field(
        description="null: every event type its kind triggers on."
    )
    active: bool
    disabled_reason: str | None = strawberry.field(
        description="Why it was turned off by us (it answered 410 Gone)."
    )
    created_at: datetime
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="After a rotation, the old secret also signs until then."
    )

    @classmethod
    def from_model(cls, row: EndpointModel) -> IntegrationEndpoint:
        return cls(
            model=row,
            id=to_global_id("IntegrationEndpoint", row.id),
            name=row.name,
            kind=row.kind,
            url=row.url,
            event_types=row.event_types,
            active=row.active,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            previous_secret_expires_at=row.previous_secret_expires_at,
        )


@strawberry.type(description="One try at posting a delivery.")
class DeliveryAttempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @classmethod
    def from_model(cls, row: AttemptModel) -> DeliveryAttempt:
        return cls(
            at=row.at, status_code=row.status_code, error=row.error, duration_ms=row.duration_ms
        )


class AttemptsByDeliveryLoader(OrgLoader[uuid.UUID, list[AttemptModel]]):
    default: list[AttemptModel] = []

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[AttemptModel]]:
        return await service.attempts_of(session, org_id=self.org_id, delivery_ids=keys)


@strawberry.type(description="One event for one endpoint, and what became of it.")
class Delivery(Node):
    model: strawberry.Private[DeliveryModel]
    status: DeliveryStatus  # type: ignore[valid-type]
    event_type: str
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next (PENDING, FAILED); null once DELIVERED or DEAD."
    )
    created_at: datetime
    delivered_at: datetime | None
    body: str = strawberry.field(description="The JSON posted: {type, timestamp, data}.")
    endpoint_id: strawberry.ID

    @classmethod
    def from_model(cls, row: DeliveryModel) -> Delivery:
        return cls(
            model=row,
            id=to_global_id("Delivery", row.id),
            status=row.status,
            event_type=row.event_type,
            next_attempt_at=row.next_attempt_at
            if row.status in (_Status.PENDING, _Status.FAILED)
            else None,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            body=json.dumps(row.body, default=str),
            endpoint_id=to_global_id("IntegrationEndpoint", row.endpoint_id),
        )

    @strawberry.field(description="Every try, oldest first.")
    async def attempts(self, info: Info) -> list[DeliveryAttempt]:
        rows = await info.context.loaders.get(AttemptsByDeliveryLoader).load(self.model.id)
        return [DeliveryAttempt.from_model(r) for r in rows]


@strawberry.type(description="Another tool that pushes incidents to us (signed webhooks).")
class WebhookSource(Node):
    model: strawberry.Private[WebhookSourceModel]
    name: str
    key: str = strawberry.field(description="The last segment of its URL: POST /webhooks/{key}.")
    active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, row: WebhookSourceModel) -> WebhookSource:
        return cls(
            model=row,
            id=to_global_id("WebhookSource", row.id),
            name=row.name,
            key=row.key,
            active=row.active,
            created_at=row.created_at,
        )

    @strawberry.field(description="Where the source posts (relative to the API's address).")
    def path(self) -> str:
        return f"/webhooks/{self.key}"


@strawberry.type(description="A message a source sent that could not become an incident.")
class RejectedWebhook(Node):
    model: strawberry.Private[InboundWebhookModel]
    webhook_id: str = strawberry.field(description="The sender's webhook-id.")
    received_at: datetime
    error: str | None
    body: str | None = strawberry.field(description="What it sent (JSON, or the raw text).")
    source_id: strawberry.ID

    @classmethod
    def from_model(cls, row: InboundWebhookModel) -> RejectedWebhook:
        return cls(
            model=row,
            id=to_global_id("RejectedWebhook", row.id),
            webhook_id=row.webhook_id,
            received_at=row.received_at,
            error=row.error,
            body=json.dumps(row.payload) if row.payload is not None else row.raw,
            source_id=to_global_id("WebhookSource", row.source_id),
        )


SyncStatus = strawberry.enum(_SyncStatus, name="SyncStatus")


@strawberry.type(description="One run of a Google Sheets sync.")
class SyncRun:
    status: SyncStatus  # type: ignore[valid-type]
    started_at: datetime
    finished_at: datetime | None
    rows: int
    inserted: int
    updated: int
    unchanged: int
    failed: int
    error: str | None = strawberry.field(description="Why it failed, or its first bad row.")
    import_job_id: strawberry.ID | None = strawberry.field(
        description="The roster import it ran (its rejected rows: importJob.errors)."
    )

    @classmethod
    def from_model(cls, row: SyncRunModel) -> SyncRun:
        return cls(
            status=row.status,
            started_at=row.started_at,
            finished_at=row.finished_at,
            rows=row.rows,
            inserted=row.inserted,
            updated=row.updated,
            unchanged=row.unchanged,
            failed=row.failed,
            error=row.error,
            import_job_id=to_global_id("ImportJob", row.import_job_id)
            if row.import_job_id
            else None,
        )


@strawberry.type(description="A Google Sheet of students, synced into the roster.")
class SyncSource(Node):
    model: strawberry.Private[SyncSourceModel]
    last: strawberry.Private[SyncRunModel | None]
    name: str
    spreadsheet_id: str
    range: str
    credentials: str = strawberry.field(
        description="Where the worker finds the service-account JSON: env:NAME or file:/path."
    )
    interval_hours: int
    active: bool
    next_due_at: datetime

    @classmethod
    def from_model(cls, row: SyncSourceModel, last: SyncRunModel | None) -> SyncSource:
        return cls(
            model=row,
            last=last,
            id=to_global_id("SyncSource", row.id),
            name=row.name,
            spreadsheet_id=row.spreadsheet_id,
            range=row.range,
            credentials=row.credentials,
            interval_hours=row.interval_hours,
            active=row.active,
            next_due_at=row.next_due_at,
        )

    @strawberry.field(description="Its latest run (null before the first).")
    def last_run(self) -> SyncRun | None:
        return SyncRun.from_model(self.last) if self.last is not None else None
