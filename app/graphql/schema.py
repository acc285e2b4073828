"""The one schema: per-domain Query and Mutation types merged, with query limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
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
from app.core import contracts as C
from app.core.errors import ServiceError
from app.graphql import contracts
from app.graphql.assessments.dataloaders import AssessmentByIdLoader
from app.graphql.assessments.schema import AssessmentMutations
from app.graphql.assessments.types import Assessment
from app.graphql.attendance.dataloaders import AttendanceDayByIdLoader
from app.graphql.attendance.schema import AttendanceMutations, AttendanceQueries
from app.graphql.attendance.types import AttendanceDay
from app.graphql.audit.schema import AuditQueries
from app.graphql.compiled.extension import CompiledReads
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.door import DoorChecks, FragmentExpansionLimit, RequestLogging
from app.graphql.events.execution import SharedEventExecution
from app.graphql.events.schema import Subscription
from app.graphql.events.trend import DashboardQueries
from app.graphql.exports.schema import ExportQueries
from app.graphql.fast_mutations import AdmitMutations
from app.graphql.iep.dataloaders import IepGoalByIdLoader, IepProbeByIdLoader
from app.graphql.iep.schema import IepMutations
from app.graphql.iep.types import IepGoal, IepProbe
from app.graphql.imports.dataloaders import ImportJobByIdLoader
from app.graphql.imports.schema import ImportMutations, ImportQueries
from app.graphql.imports.types import ImportJob
from app.graphql.incidents.dataloaders import IncidentByIdLoader
from app.graphql.incidents.schema import IncidentMutations, IncidentQueries
from app.graphql.incidents.types import Incident
from app.graphql.integrations.schema import IntegrationMutations, IntegrationQueries
from app.graphql.interventions.dataloaders import InterventionByIdLoader
from app.graphql.interventions.schema import InterventionMutations
from app.graphql.interventions.types import Intervention
from app.graphql.orgs.schema import OrgMutations, OrgQueries
from app.graphql.permissions import ALL_ROLES, STAFF, allow
from app.graphql.records.schema import RecordMutations, RecordQueries
from app.graphql.relay import Node, from_global_id
from app.graphql.search.schema import SearchMutations, SearchQueries
from app.graphql.students.schema import StudentMutations, StudentQueries
from app.graphql.students.types import Student
from app.logs import INTERNAL_ERROR, current_request, log_internal
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
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> Node | None:
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
    "ImportJob": (STAFF, ImportJobByIdLoader, ImportJob.from_model),
    # Aides read a goal's title only (its other fields refuse them).
    "IepGoal": (ALL_ROLES, IepGoalByIdLoader, IepGoal.from_model),
    "IepProbe": (STAFF, IepProbeByIdLoader, IepProbe.from_model),
}


NODE_TYPES = [
    Student,
    Incident,
    Intervention,
    Assessment,
    AttendanceDay,
    ImportJob,
    IepGoal,
    IepProbe,
]

Query = merge_types(
    "Query",
    (
        CoreQueries,
        StudentQueries,
        IncidentQueries,
        AttendanceQueries,
        OrgQueries,
        AuditQueries,
        ImportQueries,
        SearchQueries,
        IntegrationQueries,
        ExportQueries,
        DashboardQueries,
        RecordQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        IncidentMutations,
        StudentMutations,
        AttendanceMutations,
        AssessmentMutations,
        InterventionMutations,
        IepMutations,
        OrgMutations,
        ImportMutations,
        SearchMutations,
        IntegrationMutations,
        RecordMutations,
    ),
)


class Schema(strawberry.Schema):
    """What reaches the client of an error, and what reaches the log.

    - A ServiceError (bad input in a query: a cursor, a page size, an id) is the caller's
      mistake: answered with its field and code, not logged.
    - GraphQL's own errors (parse, validation, variable coercion, permissions, limits) are
      answered as they are and not logged: their text may quote the document, and so a note.
    - Anything else is ours: the client sees `Internal server error` and an `errorId`; the
      log has the exception under that id (SQL without parameters, see db.create_engine).
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        entry = current_request()
        for error in errors:
            original = error.original_error
            if isinstance(original, ServiceError) and original.errors:
                first = original.errors[0]
                error.message = first.message
                error.extensions = {"field": first.field, "code": first.code.value}
            elif original is not None and not isinstance(original, GraphQLError):
                where = ".".join(str(p) for p in error.path or ()) or "operation"
                error_id = log_internal(original, where=where)
                error.message = INTERNAL_ERROR
                error.extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
                error.original_error = None
            if entry is not None:
                code = (error.extensions or {}).get("code")
                entry.error_codes.append(str(code) if code else "GRAPHQL_ERROR")


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    # The limiters' rule classes are built once. Per-request factories would build new
    # classes each time, and ValidationCache keys on the rules: it would never hit, and
    # validating a mutation document costs ~3 ms of CPU.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if not settings.introspection:
        limit_rules.append(NoSchemaIntrospectionCustomRule)
    contracts.install([Query, Mutation, Subscription, *NODE_TYPES], mutation=Mutation)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        # Subscribers of one event asking the same thing share one execution of it.
        execution_context_class=SharedEventExecution,
        extensions=[
            lambda: AddValidationRules(limit_rules),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            # Clients send the same few documents over and over: parse and validate each once.
            lambda: ParserCache(maxsize=512),
            # Before validation: the limiters walk the tree with its fragments spread out.
            FragmentExpansionLimit,
            lambda: ValidationCache(maxsize=512),
            lambda: DoorChecks(
                max_cost=settings.max_query_cost, max_page_size=settings.max_page_size
            ),
            # After the door: only operations the resolver path would run get compiled.
            *([CompiledReads] if settings.compiled_reads else []),
            RequestLogging,
            # A mutation run cleanly is answered next time without Strawberry (the view).
            AdmitMutations,
        ],
    )


schema = build_schema()
