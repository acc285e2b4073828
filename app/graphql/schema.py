"""The one schema: per-domain Query and Mutation types merged, with query limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from app.config import Settings, get_settings
from app.core.errors import ServiceError
from app.graphql.assessments.dataloaders import AssessmentByIdLoader
from app.graphql.assessments.schema import AssessmentMutations
from app.graphql.assessments.types import Assessment
from app.graphql.attendance.dataloaders import AttendanceDayByIdLoader
from app.graphql.attendance.schema import AttendanceMutations, AttendanceQueries
from app.graphql.attendance.types import AttendanceDay
from app.graphql.audit.schema import AuditQueries
from app.graphql.context import Info
from app.graphql.incidents.dataloaders import IncidentByIdLoader
from app.graphql.incidents.schema import IncidentMutations, IncidentQueries
from app.graphql.incidents.types import Incident
from app.graphql.interventions.dataloaders import InterventionByIdLoader
from app.graphql.interventions.schema import InterventionMutations
from app.graphql.interventions.types import Intervention
from app.graphql.orgs.schema import OrgMutations, OrgQueries
from app.graphql.permissions import ALL_ROLES, STAFF, allow
from app.graphql.relay import Node, from_global_id
from app.graphql.students.schema import StudentMutations, StudentQueries
from app.graphql.students.types import Student
from app.orgs.models import Role


@strawberry.type(description="The caller, as their token says.")
class Viewer:
    sub: str
    role: str
    org_slug: str


@strawberry.type
class CoreQueries:
    @strawberry.field(permission_classes=[allow(*ALL_ROLES)])
    def me(self, info: Info) -> Viewer:
        actor = info.context.actor
        return Viewer(sub=actor.sub, role=actor.role.value, org_slug=actor.org_slug)

    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="Any object by its global ID (null when it is not in your organisation).",
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = from_global_id(id)
        if parsed is None:
            return None
        type_name, raw = parsed
        if type_name == "Student":
            return await Student.load(info, raw)
        resolver = _NODE_RESOLVERS.get(type_name)
        if resolver is None:
            return None
        roles, loader, convert = resolver
        if info.context.actor.role not in roles:
            return None  # the same answer as for an id that does not exist
        row = await info.context.loaders.get(loader).load(raw)
        return convert(row) if row is not None else None


# type name -> (roles that may read it, loader by id, model -> GraphQL type)
_NODE_RESOLVERS: dict[str, tuple[tuple[Role, ...], type[Any], Callable[[Any], Node]]] = {
    "Incident": (ALL_ROLES, IncidentByIdLoader, Incident.from_model),
    "Intervention": (STAFF, InterventionByIdLoader, Intervention.from_model),
    "Assessment": (STAFF, AssessmentByIdLoader, Assessment.from_model),
    "AttendanceDay": (STAFF, AttendanceDayByIdLoader, AttendanceDay.from_model),
}


Query = merge_types(
    "Query",
    (CoreQueries, StudentQueries, IncidentQueries, AttendanceQueries, OrgQueries, AuditQueries),
)
Mutation = merge_types(
    "Mutation",
    (
        IncidentMutations,
        StudentMutations,
        AttendanceMutations,
        AssessmentMutations,
        InterventionMutations,
        OrgMutations,
    ),
)


class Schema(strawberry.Schema):
    """Bad input in a query (a cursor, a page size, an id) is the caller's mistake, not ours:
    answer with the field and code, and keep it out of the error log."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = []
        for error in errors:
            original = error.original_error
            if isinstance(original, ServiceError) and original.errors:
                first = original.errors[0]
                error.message = first.message
                error.extensions = {"field": first.field, "code": first.code.value}
            else:
                unexpected.append(error)
        super().process_errors(unexpected, execution_context)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # The limiters' rule classes are built once. Per-request factories would build new
    # classes each time, and ValidationCache keys on the rules: it would never hit, and
    # validating a mutation document costs ~3 ms of CPU.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Student, Incident, Intervention, Assessment, AttendanceDay],
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Clients send the same few documents over and over: parse and validate each once.
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


schema = build_schema()
