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
