"""What each compilable GraphQL field reads: the kinds of declaration, and the root fields.

Each object type declares its fields next to itself (`STUDENT` in app/graphql/students/
types.py, `INCIDENT` in app/graphql/incidents/types.py, registered in ROW_TYPES), and both
read paths read that one declaration: the compiler writes the fields' SQL from it, and the
type's `from_model` takes its plain fields' values from it (RowType.field_values), so a
column cannot mean one thing on one path and another on the other.

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
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from app.core.pagination import SortKey
from app.incidents.service import NEWEST_FIRST
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
    # The model attribute the resolver path answers the field with (RowType.field_values).
    attribute: str | None = None


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
    """A GraphQL object type over a table, declared once next to the type (app/graphql/<domain>
    /types.py) and read by both paths: the compiler writes its fields' SQL from it, and the
    type's `from_model` takes its plain fields' values from it (`field_values`)."""

    name: str  # the GraphQL object type
    table: str
    fields: Mapping[str, FieldDecl]  # by GraphQL field name
    org_column: str = "org_id"

    def field_values(self, row: Any, strawberry_type: type) -> dict[str, Any]:
        """The keyword arguments of `strawberry_type` for `row`: every field without a
        resolver, from its declared column (a global id from the row's id)."""
        return {name: read(row) for name, read in _readers(self, strawberry_type)}


_READERS: dict[tuple[str, type], list[tuple[str, Callable[[Any], Any]]]] = {}


def _readers(row_type: RowType, strawberry_type: type) -> list[tuple[str, Callable[[Any], Any]]]:
    key = (row_type.name, strawberry_type)
    found = _READERS.get(key)
    if found is None:
        found = _READERS[key] = _build_readers(row_type, strawberry_type)
    return found


def _build_readers(
    row_type: RowType, strawberry_type: type
) -> list[tuple[str, Callable[[Any], Any]]]:
    definition = strawberry_type.__strawberry_definition__  # type: ignore[attr-defined]
    readers: list[tuple[str, Callable[[Any], Any]]] = []
    for sfield in definition.fields:
        annotation = sfield.type_annotation
        if sfield.base_resolver is not None or (
            annotation is not None and is_private(annotation.annotation)
        ):
            continue  # a resolver answers it, or it is not in the schema (the model itself)
        name = sfield.graphql_name or to_camel_case(sfield.python_name)
        declaration = row_type.fields.get(name)
        if not isinstance(declaration, Column):
            raise TypeError(f"{row_type.name}.{name} has no column declared for it")
        if declaration.scalar is Scalar.GLOBAL_ID:
            readers.append(
                (sfield.python_name, _global_id_of(declaration.type_name or row_type.name))
            )
        elif declaration.attribute is not None:
            readers.append((sfield.python_name, operator.attrgetter(declaration.attribute)))
        else:
            raise TypeError(f"{row_type.name}.{name} declares no model attribute")
    return readers


def _global_id_of(type_name: str) -> Callable[[Any], Any]:
    from app.graphql.relay import to_global_id

    return lambda row: to_global_id(type_name, row.id)


# Filled by the types that declare themselves (register), which the schema imports.
ROW_TYPES: dict[str, RowType] = {}


def register(row_type: RowType) -> RowType:
    ROW_TYPES[row_type.name] = row_type
    return row_type


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
    # Why a call with these arguments has no compiled form (the resolver path answers it),
    # or None when it has one.
    resolver_only: Callable[[Mapping[str, Any]], str | None] = lambda kwargs: None


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
    kw.setdefault("attribute", attribute.key)
    return Column(f"{{t}}.{name}", (name,), scalar, graphql_type or scalar.value, **kw)


def global_id(type_name: str) -> Column:
    return Column("{t}.id", ("id",), Scalar.GLOBAL_ID, "ID", type_name=type_name)


def like_contains(text: str) -> str:
    """The ILIKE pattern of students.service.filtered's `name_contains` (wildcards literal)."""
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


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
    # StudentQueries.at_risk_students: the filter it builds, in the risk order. A projected
    # list (the students the trajectory, in Python, says are heading into a tier) has no
    # compiled form: the resolver path answers it.
    "atRiskStudents": RootConnection(
        "Student",
        RISK_ORDER,
        STUDENT_FILTERS,
        frozenset({"min_tier", "projected"}),
        lambda kwargs: StudentFilterData(min_risk_tier=kwargs["min_tier"]),
        resolver_only=lambda kwargs: (
            "a projected list is computed in Python" if kwargs.get("projected") else None
        ),
    ),
}

# Root fields returning one row by its global id.
ROOT_OBJECTS: Mapping[str, str] = {"student": "Student"}
