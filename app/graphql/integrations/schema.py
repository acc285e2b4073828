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
    SyncSource,
    WebhookSource,
)
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import After, Connection, First, connection_from_page, page_from, parse_id
from app.incidents.models import Incident as IncidentModel
from app.integrations import inbound, service, sheets
from app.integrations.jobs import sync_job_id
from app.integrations.models import Delivery as DeliveryModel
from app.integrations.models import Endpoint as EndpointModel
from app.integrations.models import SyncSource as SyncSourceModel
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


@strawberry.input
class CreateSyncSourceInput:
    name: str = limited(C.Label)
    spreadsheet_id: str = limited(C.Label, description="From the sheet's URL: /d/<id>/edit.")
    range: str | None = limited(C.Label, default=None, description="A1 range; default Sheet1.")
    credentials: str = limited(
        C.Description,
        description="Where the worker finds the service-account JSON: env:NAME (an "
        "environment variable) or file:/path. Share the sheet with its client_email.",
    )
    interval_hours: int | None = limited(C.SyncHours, default=None)


@strawberry.input
class UpdateSyncSourceInput:
    id: strawberry.ID = limited(C.GlobalId)
    name: str | None = limited(C.Label, default=None)
    spreadsheet_id: str | None = limited(C.Label, default=None)
    range: str | None = limited(C.Label, default=None)
    credentials: str | None = limited(C.Description, default=None)
    interval_hours: int | None = limited(C.SyncHours, default=None)
    active: bool | None = None


@strawberry.type
class SyncSourcePayload:
    source: SyncSource | None
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

    @strawberry.field(
        permission_classes=[allow(*ADMINS)],
        description="Google Sheets synced into the roster, with their last run. " + _NOTE,
    )
    async def sync_sources(self, info: Info) -> list[SyncSource]:
        org_id = info.context.actor.org_id

        async def both(s: Any) -> Any:
            found = await sheets.sources(s, org_id=org_id)
            runs = await sheets.last_runs(s, org_id=org_id, source_ids=[x.id for x in found])
            return found, runs

        found, runs = await read(info, both)
        return [SyncSource.from_model(x, runs.get(x.id)) for x in found]

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

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Sync a Google Sheet of students into the roster every intervalHours "
        "(default 6), first at once. " + _NOTE,
    )
    async def create_sync_source(
        self, info: Info, input: CreateSyncSourceInput
    ) -> SyncSourcePayload:
        changes = sheets.SourceChanges(
            name=input.name,
            spreadsheet_id=input.spreadsheet_id,
            range=input.range,
            credentials=input.credentials,
            interval_hours=input.interval_hours,
        )
        result = await in_transaction(
            info, lambda s, actor: sheets.create_source(s, actor=actor, changes=changes)
        )
        return await _sync_payload(info, result)

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Change a Google Sheets source (active: false stops its runs). " + _NOTE,
    )
    async def update_sync_source(
        self, info: Info, input: UpdateSyncSourceInput
    ) -> SyncSourcePayload:
        changes = sheets.SourceChanges(
            name=input.name,
            spreadsheet_id=input.spreadsheet_id,
            range=input.range,
            credentials=input.credentials,
            interval_hours=input.interval_hours,
            active=input.active,
        )
        result = await in_transaction(
            info,
            lambda s, actor: sheets.update_source(
                s, actor=actor, source_id=parse_id(input.id, "SyncSource", "id"), changes=changes
            ),
        )
        if isinstance(result, Refused):
            return SyncSourcePayload(source=None, errors=result.errors)
        assert isinstance(result, SyncSourceModel)
        return SyncSourcePayload(source=SyncSource.from_model(result, None), errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Run a Google Sheets sync now, on the worker. " + _NOTE,
    )
    async def run_sync_now(self, info: Info, source_id: Id) -> SyncSourcePayload:
        result = await in_transaction(
            info,
            lambda s, actor: sheets.make_due(
                s, actor=actor, source_id=parse_id(source_id, "SyncSource", "sourceId")
            ),
        )
        return await _sync_payload(info, result)


async def _sync_payload(info: Info, result: object) -> SyncSourcePayload:
    if isinstance(result, Refused):
        return SyncSourcePayload(source=None, errors=result.errors)
    assert isinstance(result, SyncSourceModel)
    if info.context.queue is not None:  # else (or if it is down) the worker's sweep runs it
        await info.context.queue.enqueue(
            "sync_sheet", str(result.id), job_id=sync_job_id(result.id, result.next_due_at)
        )
    return SyncSourcePayload(source=SyncSource.from_model(result, None), errors=[])
