"""Endpoints, deliveries and their re-driving (ADMIN only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited, limited_argument
from app.graphql.errors import UserError
from app.graphql.incidents.types import Incident
from app.graphql.integrations.types import (
    Delivery,
    DeliveryStatus,
    EndpointKind,
    IntegrationEndpoint,
    RejectedWebhook,
    WebhookSource,
)
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import After, Connection, First, connection_from_page, page_from, parse_id
from app.incidents.models import Incident as IncidentModel
from app.integrations import inbound, service
from app.integrations.models import Delivery as DeliveryModel
from app.integrations.models import Endpoint as EndpointModel
from app.orgs.models import Role

ADMINS = (Role.ADMIN,)
_NOTE = roles_note(*ADMINS)
Id = Annotated[strawberry.ID, limited_argument(C.GlobalId)]


@strawberry.input
class CreateIntegrationEndpointInput:
    name: str = limited(C.Label)
    kind: EndpointKind  # type: ignore[valid-type]
    url: str = limited(C.Url)
    event_types: list[str] | None = limited(
        C.EventTypes,
        default=None,
        description="incident.logged, incident.admin_notified, risk.changed; null: every "
        "type its kind triggers on.",
    )


@strawberry.input
class UpdateIntegrationEndpointInput:
    id: strawberry.ID = limited(C.GlobalId)
    name: str | None = limited(C.Label, default=None)
    kind: EndpointKind | None = None  # type: ignore[valid-type]
    url: str | None = limited(C.Url, default=None)
    event_types: list[str] | None = limited(
        C.EventTypes,
        default=strawberry.UNSET,
        description="null: every type its kind triggers on.",
    )
    active: bool | None = None


@strawberry.input
class DeliveryFilter:
    status: DeliveryStatus | None = None  # type: ignore[valid-type]
    endpoint_id: strawberry.ID | None = limited(C.GlobalId, default=None)
    from_: datetime | None = limited(C.Instant, default=None, name="from")
    to: datetime | None = limited(C.Instant, default=None)


@strawberry.type
class EndpointPayload:
    endpoint: IntegrationEndpoint | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…): shown this once; keep it in the receiver."
    )
    errors: list[UserError]


@strawberry.type
class WebhookSourcePayload:
    source: WebhookSource | None
    secret: str | None = strawberry.field(
        description="The secret it signs with (whsec_…): shown this once."
    )
    errors: list[UserError]


@strawberry.type
class RetryRejectedWebhookPayload:
    incident: Incident | None
    errors: list[UserError]


@strawberry.type
class DeliveryPayload:
    delivery: Delivery | None
    errors: list[UserError]


def _endpoint(result: object, with_secret: bool) -> EndpointPayload:
    if isinstance(result, Refused):
        return EndpointPayload(endpoint=None, secret=None, errors=result.errors)
    if with_secret:
        assert isinstance(result, tuple)
        row, secret = result
        return EndpointPayload(
            endpoint=IntegrationEndpoint.from_model(row), secret=secret, errors=[]
        )
    assert isinstance(result, EndpointModel)
    return EndpointPayload(endpoint=IntegrationEndpoint.from_model(result), secret=None, errors=[])


def _delivery(result: object) -> DeliveryPayload:
    if isinstance(result, Refused):
        return DeliveryPayload(delivery=None, errors=result.errors)
    assert isinstance(result, DeliveryModel)
    return DeliveryPayload(delivery=Delivery.from_model(result), errors=[])


@strawberry.type
class IntegrationQueries:
    @strawberry.field(permission_classes=[allow(*ADMINS)], description=_NOTE)
    async def integration_endpoints(self, info: Info) -> list[IntegrationEndpoint]:
        org_id = info.context.actor.org_id
        rows = await read(info, lambda s: service.endpoints(s, org_id=org_id))
        return [IntegrationEndpoint.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=[allow(*ADMINS)],
        description="Webhook deliveries, newest first. " + _NOTE,
    )
    async def deliveries(
        self,
        info: Info,
        filter: DeliveryFilter | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Delivery]:
        request = page_from(info, first, after, None, None)
        f = service.DeliveryFilter()
        if filter is not None:
            f = service.DeliveryFilter(
                status=filter.status,
                endpoint_id=parse_id(filter.endpoint_id, "IntegrationEndpoint", "filter.endpointId")
                if filter.endpoint_id is not None
                else None,
                start=filter.from_,
                end=filter.to,
            )
        org_id = info.context.actor.org_id
        page = await read(
            info, lambda s: service.deliveries_page(s, org_id=org_id, f=f, page=request)
        )
        return connection_from_page(page, Delivery.from_model)

    @strawberry.field(permission_classes=[allow(*ADMINS)], description=_NOTE)
    async def webhook_sources(self, info: Info) -> list[WebhookSource]:
        org_id = info.context.actor.org_id
        rows = await read(info, lambda s: inbound.sources(s, org_id=org_id))
        return [WebhookSource.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=[allow(*ADMINS)],
        description="Inbound webhooks that could not become incidents (an unknown student, "
        "a bad body), newest first: fix the cause, then retryRejectedWebhook. " + _NOTE,
    )
    async def rejected_webhooks(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[RejectedWebhook]:
        request = page_from(info, first, after, None, None)
        org_id = info.context.actor.org_id
        page = await read(info, lambda s: inbound.rejected_page(s, org_id=org_id, page=request))
        return connection_from_page(page, RejectedWebhook.from_model)


def _changes(
    i: CreateIntegrationEndpointInput | UpdateIntegrationEndpointInput,
) -> service.EndpointChanges:
    types = i.event_types
    return service.EndpointChanges(
        name=i.name,
        kind=i.kind,
        url=i.url,
        event_types=types if isinstance(types, list) else None,
        active=getattr(i, "active", None),
        clear_event_types=types is None and isinstance(i, UpdateIntegrationEndpointInput),
    )


@strawberry.type
class IntegrationMutations:
    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="A new endpoint; its signing secret is in the answer, this once. " + _NOTE,
    )
    async def create_integration_endpoint(
        self, info: Info, input: CreateIntegrationEndpointInput
    ) -> EndpointPayload:
        allow_private = info.context.settings.webhook_allow_private_urls
        return _endpoint(
            await in_transaction(
                info,
                lambda s, actor: service.create(
                    s, actor=actor, changes=_changes(input), allow_private=allow_private
                ),
            ),
            with_secret=True,
        )

    @strawberry.mutation(permission_classes=[allow(*ADMINS)], description=_NOTE)
    async def update_integration_endpoint(
        self, info: Info, input: UpdateIntegrationEndpointInput
    ) -> EndpointPayload:
        allow_private = info.context.settings.webhook_allow_private_urls
        return _endpoint(
            await in_transaction(
                info,
                lambda s, actor: service.update(
                    s,
                    actor=actor,
                    endpoint_id=parse_id(input.id, "IntegrationEndpoint", "id"),
                    changes=_changes(input),
                    allow_private=allow_private,
                ),
            ),
            with_secret=False,
        )

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="A new signing secret (in the answer, this once); the old one also signs "
        "for 24 hours, so the receiver can switch without missing a delivery. " + _NOTE,
    )
    async def rotate_endpoint_secret(self, info: Info, id: Id) -> EndpointPayload:
        return _endpoint(
            await in_transaction(
                info,
                lambda s, actor: service.rotate_secret(
                    s, actor=actor, endpoint_id=parse_id(id, "IntegrationEndpoint", "id")
                ),
            ),
            with_secret=True,
        )

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Try a delivery again now (a DEAD one too). " + _NOTE,
    )
    async def redeliver(self, info: Info, id: Id) -> DeliveryPayload:
        return _delivery(
            await in_transaction(
                info,
                lambda s, actor: service.redeliver(
                    s, actor=actor, delivery_id=parse_id(id, "Delivery", "id")
                ),
            )
        )

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Send a `test` event to an endpoint. " + _NOTE,
    )
    async def send_test_event(self, info: Info, endpoint_id: Id) -> DeliveryPayload:
        return _delivery(
            await in_transaction(
                info,
                lambda s, actor: service.send_test_event(
                    s,
                    actor=actor,
                    endpoint_id=parse_id(endpoint_id, "IntegrationEndpoint", "endpointId"),
                ),
            )
        )

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="A tool that may push incidents to POST /webhooks/{key}, signing with the "
        "secret in the answer (shown this once). " + _NOTE,
    )
    async def create_webhook_source(
        self, info: Info, name: Annotated[str, limited_argument(C.Label)]
    ) -> WebhookSourcePayload:
        result = await in_transaction(
            info, lambda s, actor: inbound.create_source(s, actor=actor, name=name)
        )
        if isinstance(result, Refused):
            return WebhookSourcePayload(source=None, secret=None, errors=result.errors)
        row, secret = result
        return WebhookSourcePayload(source=WebhookSource.from_model(row), secret=secret, errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Log a rejected inbound webhook's incident now, as its source. " + _NOTE,
    )
    async def retry_rejected_webhook(self, info: Info, id: Id) -> RetryRejectedWebhookPayload:
        async def retry(s: Any, actor: Any) -> Any:
            row = await inbound.retry_rejected(
                s, actor=actor, inbound_id=parse_id(id, "RejectedWebhook", "id")
            )
            return await s.get(IncidentModel, row.incident_id)

        result = await in_transaction(info, retry)
        if isinstance(result, Refused):
            return RetryRejectedWebhookPayload(incident=None, errors=result.errors)
        return RetryRejectedWebhookPayload(incident=Incident.from_model(result), errors=[])
