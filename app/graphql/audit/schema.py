"""The audit log, for admins: who changed what, when, with before and after."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from app.audit import service
from app.audit.models import AuditEntry as AuditEntryModel
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import Page
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.permissions import allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection_from_page,
    from_global_id,
    page_from,
    to_global_id,
)
from app.orgs.models import Role

# Entities that are Nodes in the graph get a global id; others (Org, AttendanceCode) do not.
_NODE_TYPES = {"Student", "Incident", "Intervention", "Assessment", "AttendanceDay"}


@strawberry.type(description="One change: who, what, when, and the row before and after.")
class AuditEntry:
    actor_sub: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: strawberry.ID | None = strawberry.field(
        description="The changed object's global id, when it is a Node."
    )
    before: JSON | None
    after: JSON | None
    at: datetime

    @classmethod
    def from_model(cls, row: AuditEntryModel) -> AuditEntry:
        entity_id = None
        if row.entity_type in _NODE_TYPES and row.entity_id is not None:
            entity_id = to_global_id(row.entity_type, row.entity_id)
        return cls(
            actor_sub=row.actor_sub,
            actor_role=row.actor_role,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=entity_id,
            before=cast(JSON, row.before),
            after=cast(JSON, row.after),
            at=row.at,
        )


@strawberry.input
class AuditFilter:
    entity_id: strawberry.ID | None = limited(C.GlobalId, default=None)
    actor_sub: str | None = limited(C.Person, default=None)
    action: str | None = limited(C.Action, default=None, description="e.g. incident.log")

    def to_data(self) -> service.AuditFilter:
        data = service.AuditFilter(actor_sub=self.actor_sub, action=self.action)
        if self.entity_id:
            parsed = from_global_id(self.entity_id)
            if parsed is None:
                raise ServiceError.single("filter.entityId", "not a valid id", ErrorCode.INVALID)
            data.entity_type, data.entity_id = parsed
        return data


@strawberry.type
class AuditQueries:
    @strawberry.field(
        permission_classes=[allow(Role.ADMIN)],
        description="The organisation's audit log, newest first. " + roles_note(Role.ADMIN),
    )
    async def audit_log(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: AuditFilter | None = None,
    ) -> Connection[AuditEntry]:
        request = page_from(info, first, after, last, before)

        async def work(session: AsyncSession) -> Page[AuditEntryModel]:
            return await service.list_page(
                session,
                org_id=info.context.actor.org_id,
                flt=filter.to_data() if filter else None,
                page=request,
            )

        return connection_from_page(await read(info, work), AuditEntry.from_model)
