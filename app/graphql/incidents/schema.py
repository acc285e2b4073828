"""Incident queries and mutations: the lesson console's logging and escalation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ErrorCode
from app.core.pagination import Page, check_first
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
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import ALL_ROLES, TEACHING, allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import Connection, connection_from_page, parse_id
from app.incidents import flows, service
from app.incidents.models import Incident as IncidentModel

MAX_BATCH = 200


@strawberry.type
class IncidentQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="Incidents, newest first. " + roles_note(*ALL_ROLES),
    )
    async def incidents(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: IncidentFilter | None = None,
    ) -> Connection[Incident]:
        n = check_first(first, info.context.settings.max_page_size)

        async def work(session: AsyncSession) -> Page[IncidentModel]:
            flt = filter.to_data() if filter else None
            return await service.list_page(
                session, org_id=info.context.actor.org_id, flt=flt, first=n, after=after
            )

        return connection_from_page(await read(info, work), Incident.from_model)


@strawberry.type
class LogIncidentPayload:
    incident: Incident | None
    errors: list[UserError]
    created: bool = strawberry.field(
        default=False, description="False when clientId matched an incident already logged."
    )


@strawberry.type
class LogIncidentsResult:
    index: int
    incident: Incident | None
    errors: list[UserError]
    created: bool


@strawberry.type
class LogIncidentsPayload:
    results: list[LogIncidentsResult]
    errors: list[UserError]


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
    return (
        Incident.from_model(result.incident),
        [StrikeChange.from_change(c) for c in result.strike_changes],
        [],
    )


async def _log(info: Info, item: LogIncidentInput) -> LogIncidentPayload:
    result = await in_transaction(
        info, lambda s, actor: flows.log_incident(s, actor=actor, data=item.to_data())
    )
    if isinstance(result, Refused):
        return LogIncidentPayload(incident=None, errors=result.errors)
    return LogIncidentPayload(
        incident=Incident.from_model(result.incident), errors=[], created=result.created
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
        description=f"Log up to {MAX_BATCH} incidents (offline sync): each item commits on its "
        "own, in order, and gets its own result. " + roles_note(*ALL_ROLES),
    )
    async def log_incidents(self, info: Info, input: LogIncidentsInput) -> LogIncidentsPayload:
        if len(input.items) > MAX_BATCH:
            return LogIncidentsPayload(
                results=[],
                errors=[
                    UserError(
                        field="items",
                        message=f"at most {MAX_BATCH} items per call",
                        code=ErrorCode.OUT_OF_RANGE,
                    )
                ],
            )
        results = []
        for index, item in enumerate(input.items):
            one = await _log(info, item)
            results.append(
                LogIncidentsResult(
                    index=index,
                    incident=one.incident,
                    errors=[
                        UserError(field=f"items[{index}].{e.field}", message=e.message, code=e.code)
                        for e in one.errors
                    ],
                    created=one.created,
                )
            )
        return LogIncidentsPayload(results=results, errors=[])

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
