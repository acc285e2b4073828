"""`schoolgraph explain`: what the compiled path makes of an operation — which root fields
one statement answers and why the others run on the resolver path, the statement with its
parameters, and Postgres' EXPLAIN of it run as the caller (role, org, RLS on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.graphql.compiled.cache import plan_cache
from app.graphql.compiled.execute import NotCompiled, compile_operation


@dataclass(frozen=True)
class Explanation:
    compiled: tuple[str, ...] = ()  # root response keys the statement answers
    fallback: dict[str, str] = field(default_factory=dict)  # key -> why it is resolved
    sql: str | None = None
    parameters: tuple[Any, ...] = ()
    plan: tuple[str, ...] = ()  # EXPLAIN's lines
    problem: str | None = None  # why nothing compiles at all

    def text(self) -> str:
        lines: list[str] = []
        if self.problem:
            lines.append(f"not compiled: {self.problem}")
        if self.compiled:
            lines.append("compiled: " + ", ".join(self.compiled))
        lines += [f"resolved: {key} ({why})" for key, why in self.fallback.items()]
        if self.sql is not None:
            lines += ["", "-- statement", self.sql.strip(), "", "-- parameters"]
            lines += [f"${i} = {value!r}" for i, value in enumerate(self.parameters, 1)]
            lines += ["", "-- plan", *self.plan]
        return "\n".join(lines)


async def explain_compiled(
    db: Database,
    principal: Principal,
    schema: strawberry.Schema,
    document: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
    *,
    analyze: bool = False,
) -> Explanation:
    cache = plan_cache(schema)
    prepared_document = cache.prepare(document)
    if prepared_document is None:
        return Explanation(problem="the document does not parse or validate")
    compiled = compile_operation(
        cache, prepared_document, operation_name, variables, principal, settings
    )
    if isinstance(compiled, NotCompiled):
        return Explanation(fallback=compiled.fallback, problem=compiled.reason)
    statement = compiled.statement
    options = "ANALYZE, BUFFERS, " if analyze else ""
    [rows] = await db.read(
        principal.org_id,
        [(f"EXPLAIN ({options}VERBOSE, FORMAT TEXT) {statement.sql}", compiled.values)],
    )
    return Explanation(
        compiled=tuple(key for key, _ in compiled.roots),
        fallback=compiled.fallback,
        sql=statement.sql,
        parameters=tuple(compiled.values),
        plan=tuple(row[0] for row in rows),
    )
