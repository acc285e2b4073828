"""What each compilable GraphQL field reads, declared once per type.

A field is one of:
- `Column`: a column, or an SQL expression over the row (written with `{t}` for the row's
  alias), serialised as its GraphQL scalar (see app.graphql.compiled.sqltext);
- `ToOne` / `ToManyConnection`: a relation, compiled as a correlated subquery;
- `ResolverOnly`: Python logic (a policy, a computed picture): a selection holding it is not
  compiled and runs on the resolver path.
A field missing here is treated as resolver-only.

Who may read a field is not repeated here: the planner reads it from the field's
`permission_classes` on the Strawberry type (the resolver path's own declaration), so the two
paths cannot disagree; a permission it does not recognise makes the field resolver-only.

Sort orders are the services' own `SortKey`s, and filters name the attributes of the
services' filter dataclasses, built by the same `to_data()` the resolvers call.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.pagination import SortKey
from app.incidents.models import Incident as IncidentModel
from app.incidents.service import NEWEST_FIRST
from app.students.models import Student as StudentModel
from app.students.service import NAME_ORDER, RISK_ORDER
from app.students.service import StudentFilter as StudentFilterData


class Scalar(enum.Enum):
    """How a value becomes JSON: as Postgres' json conversion writes it (STRING, INT, BOOLEAN,
    ENUM: the label is the GraphQL name, UUID: its text) or through an encoder in sqltext."""

    STRING = "String"
    INT = "Int"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    UUID = "UUID"
    GLOBAL_ID = "ID"
    ENUM = "enum"


@dataclass(frozen=True)
class Column:
    expression: str  # over `{t}`, the row's alias
    columns: tuple[str, ...]  # what it reads from the table
    scalar: Scalar
    graphql_type: str  # the named GraphQL type the field must have
    # The resolver path has a resolver for it that only returns the column (supportLevel).
    mirrors_resolver: bool = False
    type_name: str | None = None  # GLOBAL_ID: the type named in the id
    never_null: bool = False  # an expression that is never null over nullable columns


@dataclass(frozen=True)
class ResolverOnly:
    reason: str


@dataclass(frozen=True)
class ToOne:
    """`target` row whose `remote_column` equals this row's `local_column` (null if none)."""

    target: str
    local_column: str
    remote_column: str = "id"


@dataclass(frozen=True)
class ToManyConnection:
    """A keyset connection of `target` rows whose `remote_column` equals this row's
    `local_column`, in `order`, paged by `first`/`after` (the same page for every parent,
    as the loader serves it)."""

    target: str
    remote_column: str
    order: tuple[SortKey, ...]
    local_column: str = "id"


FieldDecl = Column | ResolverOnly | ToOne | ToManyConnection


@dataclass(frozen=True)
class Filter:
    """One attribute of a service filter dataclass as a predicate over `{t}` and `{p}` (its
    parameter). `otherwise` is the predicate of a boolean attribute that is False."""

    attribute: str
    predicate: str
    sql_type: str | None = None  # None: the predicate takes no parameter
    applies: Callable[[Any], bool] = field(default=lambda value: value is not None)
    value: Callable[[Any], Any] = field(default=lambda value: value)
    otherwise: str | None = None


@dataclass(frozen=True)
class RowType:
    name: str  # the GraphQL object type
    table: str
    fields: Mapping[str, FieldDecl]  # by GraphQL field name
    org_column: str = "org_id"


@dataclass(frozen=True)
class RootConnection:
    """A root field listing `target` rows of the caller's org in `order`, filtered by the
    service filter dataclass its resolver builds from its arguments (`filter_data`, given
    the resolver's keyword arguments), whose attributes `filters` compile."""

    target: str
    order: tuple[SortKey, ...]
    filters: tuple[Filter, ...]
    arguments: frozenset[str]  # besides first and after
    filter_data: Callable[[Mapping[str, Any]], Any]


def _filter_input(kwargs: Mapping[str, Any]) -> Any:
    """The `filter` input's own to_data(), as the list resolvers call it."""
    flt = kwargs.get("filter")
    return flt.to_data() if flt else None


def column_name(attribute: Any) -> str:
    """The table column behind a model attribute."""
    name: str = attribute.property.columns[0].name
    return name


def column(attribute: Any, scalar: Scalar, graphql_type: str | None = None, **kw: Any) -> Column:
    name = column_name(attribute)
    return Column(f"{{t}}.{name}", (name,), scalar, graphql_type or scalar.value, **kw)


def global_id(type_name: str) -> Column:
    return Column("{t}.id", ("id",), Scalar.GLOBAL_ID, "ID", type_name=type_name)


def like_contains(text: str) -> str:
    """The ILIKE pattern of students.service.filtered's `name_contains` (wildcards literal)."""
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


S, INC = StudentModel, IncidentModel

STUDENT = RowType(
    name="Student",
    table=S.__tablename__,
    fields={
        "id": global_id("Student"),
        "externalId": column(S.external_id, Scalar.STRING),
        "name": column(S.name, Scalar.STRING),
        "classCode": column(S.class_code, Scalar.STRING),
        "yearGroup": column(S.year_group, Scalar.INT),
        "campus": column(S.campus, Scalar.STRING),
        "housePoints": column(S.house_points, Scalar.INT),
        "riskTier": column(S.risk_tier, Scalar.INT),
        "createdAt": column(S.created_at, Scalar.DATETIME),
        "supportLevel": column(S.support_level, Scalar.INT, mirrors_resolver=True),
        "supportNotes": column(S.support_notes, Scalar.STRING, mirrors_resolver=True),
        "incidents": ToManyConnection("Incident", column_name(INC.student_id), NEWEST_FIRST),
        "strikeLevel": ResolverOnly("the strike window comes from the org policy"),
        "risk": ResolverOnly("Risk.current shapes the factors in Python"),
        "riskHistory": ResolverOnly("risk history rows are shaped in Python"),
        "attendance": ResolverOnly("attendance days are shaped in Python"),
        "attendanceSummary": ResolverOnly("the attendance rules are Python (app.attendance)"),
        "assessments": ResolverOnly("assessments are shaped in Python"),
        "latestDiagnostics": ResolverOnly("assessments are shaped in Python"),
        "diagnosticGrowth": ResolverOnly("growth is computed by assessments.service.growth"),
        "interventions": ResolverOnly("interventions are shaped in Python"),
    },
)

INCIDENT = RowType(
    name="Incident",
    table=INC.__tablename__,
    fields={
        "id": global_id("Incident"),
        "kind": column(INC.kind, Scalar.ENUM, "IncidentKind"),
        "category": column(INC.category, Scalar.STRING),
        "points": column(INC.points, Scalar.INT),
        "note": column(INC.note, Scalar.STRING),
        "classCode": column(INC.class_code, Scalar.STRING),
        "lessonSessionId": column(INC.lesson_session_id, Scalar.STRING),
        "occurredAt": column(INC.occurred_at, Scalar.DATETIME),
        "antecedent": column(INC.antecedent, Scalar.STRING),
        "behaviour": column(INC.behaviour, Scalar.STRING),
        "consequence": column(INC.consequence, Scalar.STRING),
        "source": column(INC.source, Scalar.STRING),
        "clientId": column(INC.client_id, Scalar.UUID),
        "loggedBy": column(INC.logged_by, Scalar.STRING),
        "strikeLevel": column(INC.strike_level, Scalar.INT),
        "consequenceText": column(INC.consequence_text, Scalar.STRING),
        "adminNotified": column(INC.admin_notified, Scalar.BOOLEAN),
        "hodConsulted": column(INC.hod_consulted, Scalar.BOOLEAN),
        "parentMeetingScheduled": column(INC.parent_meeting_scheduled, Scalar.BOOLEAN),
        "createdAt": column(INC.created_at, Scalar.DATETIME),
        # The model's `voided` property.
        "voided": Column(
            "({t}.voided_at IS NOT NULL)",
            ("voided_at",),
            Scalar.BOOLEAN,
            "Boolean",
            never_null=True,
        ),
        "voidedAt": column(INC.voided_at, Scalar.DATETIME),
        "voidedBy": column(INC.voided_by, Scalar.STRING),
        "voidReason": column(INC.void_reason, Scalar.STRING),
        "student": ToOne("Student", column_name(INC.student_id)),
    },
)

ROW_TYPES: Mapping[str, RowType] = {STUDENT.name: STUDENT, INCIDENT.name: INCIDENT}

# students.service.filtered, attribute by attribute.
STUDENT_FILTERS = (
    Filter("class_code", "{t}.class_code = {p}", "text"),
    Filter("year_group", "{t}.year_group = {p}", "integer"),
    Filter("campus", "{t}.campus = {p}", "text"),
    Filter("min_risk_tier", "{t}.risk_tier >= {p}", "integer"),
    Filter(
        "name_contains",
        "{t}.name ILIKE {p} ESCAPE '\\'",
        "text",
        applies=bool,
        value=like_contains,
    ),
)

# incidents.service.filtered, attribute by attribute.
INCIDENT_FILTERS = (
    Filter("student_id", "{t}.student_id = {p}", "uuid"),
    Filter("class_code", "{t}.class_code = {p}", "text"),
    Filter("kind", "{t}.kind = CAST({p} AS incident_kind)", "text", value=lambda k: k.name),
    Filter("start", "{t}.occurred_at >= {p}", "timestamptz"),
    Filter("end", "{t}.occurred_at < {p}", "timestamptz"),
    Filter("voided", "{t}.voided_at IS NOT NULL", otherwise="{t}.voided_at IS NULL"),
)

ROOT_CONNECTIONS: Mapping[str, RootConnection] = {
    "students": RootConnection(
        "Student", NAME_ORDER, STUDENT_FILTERS, frozenset({"filter"}), _filter_input
    ),
    "incidents": RootConnection(
        "Incident", NEWEST_FIRST, INCIDENT_FILTERS, frozenset({"filter"}), _filter_input
    ),
    # StudentQueries.at_risk_students: the filter it builds, in the risk order.
    "atRiskStudents": RootConnection(
        "Student",
        RISK_ORDER,
        STUDENT_FILTERS,
        frozenset({"min_tier"}),
        lambda kwargs: StudentFilterData(min_risk_tier=kwargs["min_tier"]),
    ),
}

# Root fields returning one row by its global id.
ROOT_OBJECTS: Mapping[str, str] = {"student": "Student"}
