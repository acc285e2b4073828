"""Per request: the argument values of each compiled field, turned into the SQL parameters
and the statement's shape, by the same code the resolvers run.

Arguments are coerced by graphql-core, converted by Strawberry (`convert_arguments`, as its
resolver wrapper does), checked against their input contracts (`argument_errors`, as
`EnforceContracts` does), then `page_for`, `decode_cursor`, `from_global_id` and the filter
inputs' `to_data()`. Whatever would make the resolver path answer with an error (a bad cursor,
a page too large, a forged id, a contract broken) makes the root field `NotCompilable`: it
runs on the resolver path, which gives that error itself. The compiled path never writes an
error of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments

from app.auth.principal import Principal
from app.core.errors import ServiceError
from app.core.pagination import SortKey, decode_cursor
from app.graphql.compiled.cache import LRU
from app.graphql.compiled.declarations import Filter, RootConnection
from app.graphql.compiled.plan import (
    ConnectionItem,
    ConnectionPlan,
    NotCompilable,
    ObjectPlan,
    RootConnectionPlan,
    RootObjectPlan,
    RootPlan,
    Site,
    ToOneItem,
)
from app.graphql.contracts import argument_errors
from app.graphql.relay import PAGE_ARGUMENTS, from_global_id, page_for


@dataclass
class BoundSite:
    """One site's arguments: `shape` decides the SQL text, `values` fill its parameters."""

    values: dict[str, Any] = field(default_factory=dict)
    after: bool = False  # a connection's bounds: seek after / before a cursor
    before: bool = False
    backward: bool = False  # `last`: the rows nearest `before`, fetched in reverse
    filters: tuple[tuple[str, bool], ...] = ()  # (attribute, value given / flag value)
    variant: str | None = None  # root objects: the row type of the id, None: null

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.after, self.before, self.backward, self.filters, self.variant)


@dataclass
class BindContext:
    schema: strawberry.Schema
    variables: VariableValues
    principal: Principal
    max_page_size: int
    # The plan's memo: (site, argument values) -> its BoundSite, or why it is refused.
    # Binding depends on nothing else (the role and page limit are the plan's), and
    # Strawberry's argument conversion alone costs ~100 us a site.
    memo: LRU[tuple[Any, ...], BoundSite | str]


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def memoised(site: Site, ctx: BindContext, bind: Callable[[], BoundSite]) -> BoundSite:
    try:
        raw = get_argument_values(site.definition, site.node, ctx.variables)
        key = (site.index, _frozen(raw))
        hash(key)
    except (GraphQLError, TypeError) as exc:
        raise NotCompilable(f"arguments of {site.strawberry_field.name}") from exc

    def build() -> BoundSite | str:
        try:
            return bind()
        except NotCompilable as exc:
            return exc.reason

    found = ctx.memo.get_or_build(key, build)
    if isinstance(found, str):
        raise NotCompilable(found)
    return found


def arguments(site: Site, ctx: BindContext) -> dict[str, Any]:
    """The keyword arguments the field's resolver would get."""
    sfield = site.strawberry_field
    try:
        raw = get_argument_values(site.definition, site.node, ctx.variables)
        kwargs = convert_arguments(
            raw,
            sfield.arguments,
            scalar_registry=ctx.schema.schema_converter.scalar_registry,
            config=ctx.schema.config,
        )
    except (GraphQLError, ValueError, TypeError) as exc:
        raise NotCompilable(f"arguments of {sfield.name}: {type(exc).__name__}") from exc
    if argument_errors(sfield, kwargs):
        raise NotCompilable(f"arguments of {sfield.name} break their contracts")
    for argument in sfield.arguments:
        if argument.python_name not in kwargs and argument.default is not strawberry.UNSET:
            kwargs[argument.python_name] = argument.default
    return kwargs


def bind_connection(
    site: Site, ctx: BindContext, order: tuple[SortKey, ...], root: RootConnection | None
) -> BoundSite:
    """A connection's page arguments, and a root connection's filter."""
    kwargs = arguments(site, ctx)
    known = set(PAGE_ARGUMENTS) | (root.arguments if root is not None else set())
    for name, value in kwargs.items():
        if name not in known and value is not None:
            raise NotCompilable(f"argument {name} has no compiled form")
    if root is not None and (reason := root.resolver_only(kwargs)) is not None:
        raise NotCompilable(reason)
    bound = BoundSite()
    try:
        page = page_for(
            site.strawberry_field,
            ctx.max_page_size,
            *(kwargs.get(name) for name in PAGE_ARGUMENTS),
        )
        bound.values["size"] = page.size
        bound.backward = page.backward
        # Checked against the keys' columns, as seek_condition checks them on the resolver
        # path: a cursor the compiled seek could not compare never gets here.
        for bound_name, cursor in (("after", page.after), ("before", page.before)):
            if cursor:
                setattr(bound, bound_name, True)
                for i, value in enumerate(decode_cursor(cursor, order, bound_name)):
                    bound.values[f"{bound_name}{i}"] = value
        # The near side of the page (hasPreviousPage forward, hasNextPage backward) is known
        # only from the bound given, as pagination.to_page has it.
        bound.values["near"] = bool(page.before if page.backward else page.after)
        data = root.filter_data(kwargs) if root is not None else None
        if data is not None and root is not None:
            bound.filters = _bind_filters(data, root.filters, bound.values)
    except ServiceError as exc:
        raise NotCompilable("an argument the resolver path refuses") from exc
    return bound


def _bind_filters(
    data: Any, filters: tuple[Filter, ...], values: dict[str, Any]
) -> tuple[tuple[str, bool], ...]:
    known = {flt.attribute for flt in filters}
    for item in dataclasses.fields(data):
        if item.name not in known and getattr(data, item.name) is not None:
            raise NotCompilable(f"filter {item.name} has no compiled predicate")
    found: list[tuple[str, bool]] = []
    for flt in filters:
        value = getattr(data, flt.attribute)
        if not flt.applies(value):
            continue
        if flt.sql_type is None:
            found.append((flt.attribute, bool(value)))
            continue
        if isinstance(value, datetime) and value.tzinfo is None:
            raise NotCompilable(f"filter {flt.attribute} without a time zone")
        found.append((flt.attribute, True))
        values[f"f:{flt.attribute}"] = flt.value(value)
    return tuple(found)


def bind_object_root(plan: RootObjectPlan, ctx: BindContext) -> BoundSite:
    """`student(id:)` and `node(id:)` as their resolvers read the id."""
    kwargs = arguments(plan.site, ctx)
    bound = BoundSite()
    parsed = from_global_id(kwargs["id"])
    if parsed is None:
        return bound
    type_name, raw = parsed
    if plan.field_name == "student" and type_name != "Student":
        return bound
    if plan.field_name == "node" and type_name != "Student":
        from app.graphql.schema import _NODE_RESOLVERS  # the resolver's own registry

        resolver = _NODE_RESOLVERS.get(type_name)
        if resolver is None:
            return bound
        if ctx.principal.role not in resolver[0]:
            return bound  # null, as for an id that does not exist
    if type_name not in plan.variants:
        raise NotCompilable(plan.refused.get(type_name, f"node of type {type_name}"))
    bound.variant = type_name
    bound.values["id"] = raw
    return bound


def _bind_object(plan: ObjectPlan, ctx: BindContext, out: dict[int, BoundSite]) -> None:
    for item in plan.items:
        if isinstance(item, ToOneItem):
            _bind_object(item.target, ctx, out)
        elif isinstance(item, ConnectionItem):
            _bind_connection_tree(item.connection, ctx, item.relation.order, None, out)


def _bind_connection_tree(
    plan: ConnectionPlan,
    ctx: BindContext,
    order: tuple[SortKey, ...],
    root: RootConnection | None,
    out: dict[int, BoundSite],
) -> None:
    out[plan.site.index] = memoised(
        plan.site, ctx, lambda: bind_connection(plan.site, ctx, order, root)
    )
    for node in plan.node_plans():
        _bind_object(node, ctx, out)


def bind_root(plan: RootPlan, ctx: BindContext) -> dict[int, BoundSite]:
    """Every site of a root field, by site index (raises NotCompilable)."""
    out: dict[int, BoundSite] = {}
    if isinstance(plan, RootConnectionPlan):
        declaration = plan.declaration
        _bind_connection_tree(plan.connection, ctx, declaration.order, declaration, out)
    elif isinstance(plan, RootObjectPlan):
        bound = out[plan.site.index] = memoised(plan.site, ctx, lambda: bind_object_root(plan, ctx))
        if bound.variant is not None:
            _bind_object(plan.variants[bound.variant], ctx, out)
    return out


def root_shape(bound: Mapping[int, BoundSite]) -> tuple[Any, ...]:
    return tuple((index, site.shape) for index, site in sorted(bound.items()))
