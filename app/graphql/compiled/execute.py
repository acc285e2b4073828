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
    operation_name: str | None = None  # as the document names it (an anonymous one: None)

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
    # The operation as the document names it: a request may name it or leave it implied.
    named = operation.name.value if operation.name else None
    key = (prepared.hash, named, principal.role, directive_values, settings.max_page_size)
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
    already validated against `schema` by Strawberry with all its rules (the extension): the
    document is then admitted to the fast lane (`execute_admitted`)."""
    cache = cache or plan_cache(schema)
    prepared_document = cache.prepare(document, parsed)
    if prepared_document is None:
        return None
    result = await _run(
        db, principal, cache, prepared_document, operation_name, variables, settings
    )
    if parsed is not None and result is not None and result.remainder is None:
        cache.admit(document, prepared_document)
    return result


async def execute_admitted(
    db: Database,
    principal: Principal,
    cache: PlanCache,
    document: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
) -> CompiledResult | None:
    """The fast lane's answer: the operation of a document Strawberry has already admitted
    (parsed and validated with every rule, see `execute_compiled`), when every root field
    compiles and the door's cost check passes with these variables — the checks Strawberry
    would run again for them. None otherwise: Strawberry then runs the request as usual,
    and answers what is wrong with it."""
    prepared_document = cache.admitted.get(document)
    if prepared_document is None:
        return None
    compiled = await _run(
        db, principal, cache, prepared_document, operation_name, variables, settings, whole=True
    )
    return compiled


@dataclass
class Compiled:
    """What compiles of an operation: its statement with the parameter values, the root
    fields it answers, and why the others run on the resolver path."""

    prepared: _Prepared
    roots: list[tuple[str, RootPlan]]
    fallback: dict[str, str]
    statement: Statement
    values: list[Any]


@dataclass(frozen=True)
class NotCompiled:
    reason: str
    fallback: dict[str, str] = dataclasses.field(default_factory=dict)  # root key -> why


def compile_operation(
    cache: PlanCache,
    prepared_document: PreparedDocument,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    principal: Principal,
    settings: Settings,
) -> Compiled | NotCompiled:
    """Plan (cached), bind and compile; or why nothing compiles."""
    prepared = _plan(cache, prepared_document, operation_name, variables, principal, settings)
    if prepared is None:
        return NotCompiled(
            "not a query, or no such operation, or variables the resolver path refuses"
        )
    roots, bound, fallback = _bind(prepared)
    if not roots:
        return NotCompiled("no root field compiles", fallback)
    statement = _statement(prepared.plan, roots, bound)
    return Compiled(prepared, roots, fallback, statement, _values(statement, bound, principal))


async def _run(
    db: Database,
    principal: Principal,
    cache: PlanCache,
    prepared_document: PreparedDocument,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
    *,
    whole: bool = False,
) -> CompiledResult | None:
    """`whole`: only when every root field compiles and the cost check passes (the fast lane,
    which runs no door of Strawberry's)."""
    compiled = compile_operation(
        cache, prepared_document, operation_name, variables, principal, settings
    )
    if isinstance(compiled, NotCompiled):
        return None
    if whole and (
        compiled.fallback
        or prepared_document.over_cost(
            cache.schema._schema, prepared_document.operations[operation_name], variables, settings
        )
    ):
        return None
    statement = compiled.statement
    [rows] = await db.read(principal.org_id, [(statement.sql, compiled.values)])
    named = prepared_document.operations[operation_name].name
    return dataclasses.replace(
        _result(compiled.prepared.plan, statement, tuple(rows[0]), compiled.fallback),
        plan_cached=compiled.prepared.cached,
        operation_name=named.value if named else None,
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
    if not groups:
        return results
    batches = [
        (
            statement.batch_sql,
            [list(column) for column in zip(*(m[1] for m in members), strict=True)],
        )
        for (_, statement), members in groups.items()
    ]
    answers = await db.read(principal.org_id, batches)
    for ((_, statement), members), rows in zip(groups.items(), answers, strict=True):
        for (i, _, (plan, fallback)), row in zip(members, rows, strict=True):
            results[i] = _result(plan, statement, tuple(row)[1:], fallback)
    return results
