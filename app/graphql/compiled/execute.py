"""The entry point: run what compiles of an operation as one SQL statement, in the caller's
org-scoped transaction (role and org through set_config, RLS on), and hand back the JSON text
Postgres wrote, unparsed, with what is left for the resolver path."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import DocumentNode, OperationType
from graphql.execution.values import VariableValues, get_variable_values

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.graphql.compiled.binding import BindContext, BoundSite, bind_root, root_shape
from app.graphql.compiled.cache import PlanCache, PreparedDocument, plan_cache
from app.graphql.compiled.compiler import GLOBAL_SITE, Statement, compile_statement
from app.graphql.compiled.plan import (
    NotCompilable,
    RootConnectionPlan,
    RootPlan,
    RootTypename,
    connection_sites,
    object_sites,
)
from app.graphql.compiled.planner import OperationPlan, Planner


@dataclass(frozen=True)
class CompiledResult:
    fields: dict[str, str]  # response key -> its JSON text, for the compiled root fields
    order: tuple[str, ...]  # every root response key of the operation, in order
    fallback: dict[str, str]  # response key -> why it runs on the resolver path
    remainder: DocumentNode | None  # the operation's fallback root fields only (None: none)
    plan_cached: bool = False  # the plan came from the cache (was built by an earlier request)

    @property
    def body(self) -> bytes:
        """`{"data": {...}}` of the compiled root fields, in the operation's order."""
        parts = ",".join(f'"{key}":{self.fields[key]}' for key in self.order if key in self.fields)
        return ('{"data":{' + parts + "}}").encode()


@dataclass
class _Prepared:
    plan: OperationPlan
    ctx: BindContext
    cached: bool


def _plan(
    cache: PlanCache,
    prepared: PreparedDocument,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    principal: Principal,
    settings: Settings,
) -> _Prepared | None:
    schema = cache.schema
    operation = prepared.operations.get(operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    if prepared.has_fragment_variables:
        return None
    coerced = get_variable_values(
        schema._schema, operation.variable_definitions or (), variables or {}
    )
    if not isinstance(coerced, VariableValues):
        return None  # the resolver path reports the variables' errors
    directive_values = tuple(coerced.coerced.get(n) for n in prepared.directive_variables)
    key = (prepared.hash, operation_name, principal.role, directive_values, settings.max_page_size)
    cached = key in cache.plans.items
    plan: OperationPlan = cache.plans.get_or_build(
        key,
        lambda: Planner(schema, prepared.fragments, coerced, operation, principal.role).plan(
            prepared.document
        ),
    )
    ctx = BindContext(schema, coerced, principal, settings.max_page_size, plan.bindings)
    return _Prepared(plan, ctx, cached)


def _bind(
    prepared: _Prepared,
) -> tuple[list[tuple[str, RootPlan]], dict[int, BoundSite], dict[str, str]]:
    plan = prepared.plan
    fallback = dict(plan.refused)
    roots: list[tuple[str, RootPlan]] = []
    bound: dict[int, BoundSite] = {}
    for key in plan.order:
        root = plan.roots.get(key)
        if root is None or isinstance(root, RootTypename):
            continue
        try:
            sites = bind_root(root, prepared.ctx)
        except NotCompilable as exc:
            fallback[key] = exc.reason
            continue
        roots.append((key, root))
        bound.update(sites)
    return roots, bound, fallback


def _statement(
    plan: OperationPlan, roots: list[tuple[str, RootPlan]], bound: dict[int, BoundSite]
) -> Statement:
    shape = tuple((key, root_shape(_sites_of(root, bound))) for key, root in roots)
    statement: Statement | None = plan.statements.get(shape)
    if statement is None:
        statement = plan.statements[shape] = compile_statement(roots, bound)
    return statement


def _sites_of(root: RootPlan, bound: dict[int, BoundSite]) -> dict[int, BoundSite]:
    if isinstance(root, RootConnectionPlan):
        sites = connection_sites(root.connection)
    else:
        assert not isinstance(root, RootTypename)
        sites = [root.site]
        variant = bound[root.site.index].variant
        if variant is not None:
            sites += object_sites(root.variants[variant])
    return {s.index: bound[s.index] for s in sites}


def _values(statement: Statement, bound: dict[int, BoundSite], principal: Principal) -> list[Any]:
    return [
        principal.org_id if site == GLOBAL_SITE else bound[site].values[name]
        for site, name in statement.slots
    ]


def _result(
    plan: OperationPlan, statement: Statement, texts: Any, fallback: dict[str, str]
) -> CompiledResult:
    fields: dict[str, str] = {}
    compiled = dict(zip(statement.keys, texts, strict=True))
    for key in plan.order:
        if key in compiled:
            fields[key] = compiled[key] if compiled[key] is not None else "null"
        elif key not in fallback:
            root = plan.roots[key]
            assert isinstance(root, RootTypename)
            fields[key] = json.dumps(root.type_name)
    remainder = plan.remainder(frozenset(fallback)) if fallback else None
    return CompiledResult(fields, tuple(plan.order), fallback, remainder)


async def execute_compiled(
    db: Database,
    principal: Principal,
    schema: strawberry.Schema,
    document: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
    *,
    parsed: DocumentNode | None = None,
    cache: PlanCache | None = None,
) -> CompiledResult | None:
    """The compiled root fields of the operation, or None when none compiles (then the whole
    operation belongs to the resolver path, which also answers every error: an invalid
    document, bad variables, a refused argument).

    `document` is the query text (the plan cache's key); `parsed`, when given, is its parse,
    already validated against `schema` (Strawberry's, in the extension)."""
    cache = cache or plan_cache(schema)
    prepared_document = cache.prepare(document, parsed)
    if prepared_document is None:
        return None
    prepared = _plan(cache, prepared_document, operation_name, variables, principal, settings)
    if prepared is None:
        return None
    roots, bound, fallback = _bind(prepared)
    if not roots:
        return None
    statement = _statement(prepared.plan, roots, bound)
    values = _values(statement, bound, principal)
    async with db.transaction(principal.org_id) as session:
        connection = await session.connection()
        row = (await connection.exec_driver_sql(statement.sql, tuple(values))).one()
    return dataclasses.replace(
        _result(prepared.plan, statement, row, fallback), plan_cached=prepared.cached
    )


async def execute_compiled_many(
    db: Database,
    principal: Principal,
    schema: strawberry.Schema,
    document: str,
    operation_name: str | None,
    variable_sets: list[dict[str, Any] | None],
    settings: Settings,
    *,
    cache: PlanCache | None = None,
) -> list[CompiledResult | None]:
    """`execute_compiled` for many variable sets of one document and one principal's org and
    role (the subscribers of one live event): one statement per distinct plan and shape,
    its parameters as arrays, one result row per variable set."""
    cache = cache or plan_cache(schema)
    results: list[CompiledResult | None] = [None] * len(variable_sets)
    prepared_document = cache.prepare(document)
    if prepared_document is None:
        return results
    groups: dict[tuple[int, Statement], list[tuple[int, list[Any], Any]]] = {}
    for i, variables in enumerate(variable_sets):
        prepared = _plan(cache, prepared_document, operation_name, variables, principal, settings)
        if prepared is None:
            continue
        roots, bound, fallback = _bind(prepared)
        if not roots:
            continue
        statement = _statement(prepared.plan, roots, bound)
        group = groups.setdefault((id(prepared.plan), statement), [])
        group.append((i, _values(statement, bound, principal), (prepared.plan, fallback)))
    async with db.transaction(principal.org_id) as session:
        connection = await session.connection()
        for (_, statement), members in groups.items():
            columns = tuple(list(column) for column in zip(*(m[1] for m in members), strict=True))
            rows = (await connection.exec_driver_sql(statement.batch_sql, columns)).all()
            for (i, _, (plan, fallback)), row in zip(members, rows, strict=True):
                results[i] = _result(plan, statement, tuple(row)[1:], fallback)
    return results
