"""Incident queries and mutations: the lesson console's logging and escalation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import contracts as C
from app.core.errors import FieldError, ServiceError
from app.core.pagination import Page
from app.graphql.context import Info
from app.graphql.errors import UserError
from app.graphql.incidents.inputs import (
    CorrectIncidentInput,
    IncidentFilter,
    LogIncidentInput,
    LogIncidentsInput,
    UpdateIncidentInput,
    VoidIncidentInput,
)
from app.graphql.incidents.types import Incident, StrikeChange
from app.graphql.mutations import Refused, in_own_transaction, in_transaction
from app.graphql.permissions import ALL_ROLES, TEACHING, allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection_from_page,
    page_from,
    parse_id,
)
from app.incidents import flows, service
from app.incidents.models import Incident as IncidentModel

_RESTRUCK = (
    "The student's later negatives whose strike was recomputed because this one, timed "
    "before them inside their window (offline sync), now counts for them; empty when none "
    "changed."
)


@strawberry.type
class IncidentQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="Incidents, newest first. " + roles_note(*ALL_ROLES),
    )
    async def incidents(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: IncidentFilter | None = None,
    ) -> Connection[Incident]:
        request = page_from(info, first, after, last, before)

        async def work(session: AsyncSession) -> Page[IncidentModel]:
            flt = filter.to_data() if filter else None
            return await service.list_page(
                session, org_id=info.context.actor.org_id, flt=flt, page=request
            )

        return connection_from_page(await read(info, work), Incident.from_model)


@strawberry.type
class LogIncidentPayload:
    incident: Incident | None
    errors: list[UserError]
    created: bool = strawberry.field(
        default=False, description="False when clientId matched an incident already logged."
    )
    strike_changes: list[StrikeChange] = strawberry.field(
        default_factory=list, description=_RESTRUCK
    )


@strawberry.type(description="What became of one item of a logIncidents batch.")
class LogIncidentsResult:
    index: int = strawberry.field(description="The item's position in `items`, from 0.")
    incident: Incident | None = strawberry.field(
        description="The incident logged (or, with created: false, logged before under the "
        "same clientId); null when the item failed."
    )
    errors: list[UserError] = strawberry.field(
        description="Why the item failed, and nothing of it was written: empty when it was "
        "logged. (An INTERNAL_SERVER_ERROR that broke off the commit itself leaves that "
        "unknown: resend such an item with its clientId.)"
    )
    created: bool
    strike_changes: list[StrikeChange] = strawberry.field(
        default_factory=list, description=_RESTRUCK
    )


@strawberry.type(
    description="Either `errors` is non-empty and nothing was logged, or `errors` is empty and "
    "`results` has one entry per item, in order, saying what became of it."
)
class LogIncidentsPayload:
    results: list[LogIncidentsResult]
    errors: list[UserError] = strawberry.field(
        description="Why the batch was refused as a whole: every problem of every invalid item, "
        "each naming `items[i].field`. Nothing was logged."
    )


@strawberry.type
class UpdateIncidentPayload:
    incident: Incident | None
    errors: list[UserError]


@strawberry.type
class VoidIncidentPayload:
    incident: Incident | None
    strike_changes: list[StrikeChange] = strawberry.field(
        description="The student's other incidents whose strike was recomputed."
    )
    errors: list[UserError]


@strawberry.type
class CorrectIncidentPayload:
    incident: Incident | None
    strike_changes: list[StrikeChange] = strawberry.field(
        description="Incidents whose strike was recomputed, this one included."
    )
    errors: list[UserError]


async def _change(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[flows.ChangedIncident]]
) -> tuple[Incident | None, list[StrikeChange], list[UserError]]:
    result = await in_transaction(info, work)
    if isinstance(result, Refused):
        return None, [], result.errors
    return Incident.from_model(result.incident), _strike_changes(result), []


async def _log(info: Info, item: LogIncidentInput) -> LogIncidentPayload:
    result = await in_transaction(
        info, lambda s, actor: flows.log_incident(s, actor=actor, data=item.to_data())
    )
    if isinstance(result, Refused):
        return LogIncidentPayload(incident=None, errors=result.errors)
    return LogIncidentPayload(
        incident=Incident.from_model(result.incident),
        errors=[],
        created=result.created,
        strike_changes=_strike_changes(result),
    )


def _strike_changes(result: flows.LoggedIncident | flows.ChangedIncident) -> list[StrikeChange]:
    return [StrikeChange.from_change(c) for c in result.strike_changes]


def _check(item: LogIncidentInput, now: datetime) -> list[FieldError]:
    """What is wrong with an item before anything is written: its fields, by the same rule
    that logging applies (a student that does not exist is found out when logging it)."""
    try:
        service.validate_new(item.to_data(), now)
    except ServiceError as exc:
        return exc.errors
    return []


def _item_errors(index: int, errors: list[FieldError] | list[UserError]) -> list[UserError]:
    return [
        UserError(
            field=f"items[{index}].{e.field}" if e.field else f"items[{index}]",
            message=e.message,
            code=e.code,
        )
        for e in errors
    ]


async def _log_item(info: Info, index: int, item: LogIncidentInput) -> LogIncidentsResult:
    """One item of a batch, in a transaction of its own; whatever fails, it has a result."""
    result = await in_own_transaction(
        info,
        lambda s, actor: flows.log_incident(s, actor=actor, data=item.to_data()),
        where=f"{info.path.key}.items[{index}]",
    )
    if isinstance(result, Refused):
        return LogIncidentsResult(
            index=index, incident=None, errors=_item_errors(index, result.errors), created=False
        )
    return LogIncidentsResult(
        index=index,
        incident=Incident.from_model(result.incident),
        errors=[],
        created=result.created,
        strike_changes=_strike_changes(result),
    )


@strawberry.type
class IncidentMutations:
    @strawberry.mutation(
        permission_classes=[allow(*ALL_ROLES)],
        description="Log an incident: strike, house points and risk in one transaction. "
        + roles_note(*ALL_ROLES),
    )
    async def log_incident(self, info: Info, input: LogIncidentInput) -> LogIncidentPayload:
        return await _log(info, input)

    @strawberry.mutation(
        permission_classes=[allow(*ALL_ROLES)],
        description=f"Log up to {C.IncidentBatch.max_items} incidents (offline sync). Every "
        "item is checked first: if any is invalid, nothing is logged and `errors` names every "
        "problem. Then each item commits on its own, in order, and `results` answers every "
        "item: its incident, or the errors of an item that failed (a student not found, a "
        "clientId conflict, an internal error with its errorId), which does not stop the "
        "others. " + roles_note(*ALL_ROLES),
    )
    async def log_incidents(self, info: Info, input: LogIncidentsInput) -> LogIncidentsPayload:
        # The IncidentBatch contract on `items` refuses a longer batch before this runs.
        now = datetime.now(UTC)
        invalid = [
            error
            for index, item in enumerate(input.items)
            for error in _item_errors(index, _check(item, now))
        ]
        if invalid:
            return LogIncidentsPayload(results=[], errors=invalid)
        return LogIncidentsPayload(
            results=[await _log_item(info, index, item) for index, item in enumerate(input.items)],
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Set escalation flags. " + roles_note(*TEACHING),
    )
    async def update_incident(
        self, info: Info, input: UpdateIncidentInput
    ) -> UpdateIncidentPayload:
        result = await in_transaction(
            info,
            lambda s, actor: service.update_flags(
                s,
                actor=actor,
                incident_id=parse_id(input.id, "Incident", "id"),
                parent_meeting_scheduled=input.parent_meeting_scheduled,
                hod_consulted=input.hod_consulted,
                admin_notified=input.admin_notified,
            ),
        )
        if isinstance(result, Refused):
            return UpdateIncidentPayload(incident=None, errors=result.errors)
        return UpdateIncidentPayload(incident=Incident.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Void a mis-logged incident: it stays in the record, marked void, and "
        "stops counting for strikes, house points and risk; later strikes are recomputed. "
        + roles_note(*TEACHING),
    )
    async def void_incident(self, info: Info, input: VoidIncidentInput) -> VoidIncidentPayload:
        incident, changes, errors = await _change(
            info,
            lambda s, actor: flows.void_incident(
                s,
                actor=actor,
                incident_id=parse_id(input.id, "Incident", "id"),
                reason=input.reason,
            ),
        )
        return VoidIncidentPayload(incident=incident, strike_changes=changes, errors=errors)

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Correct an incident's category, note, kind or time; house points, "
        "strikes and risk follow. " + roles_note(*TEACHING),
    )
    async def correct_incident(
        self, info: Info, input: CorrectIncidentInput
    ) -> CorrectIncidentPayload:
        incident, changes, errors = await _change(
            info,
            lambda s, actor: flows.correct_incident(
                s,
                actor=actor,
                incident_id=parse_id(input.id, "Incident", "id"),
                correction=input.to_data(),
            ),
        )
        return CorrectIncidentPayload(incident=incident, strike_changes=changes, errors=errors)
