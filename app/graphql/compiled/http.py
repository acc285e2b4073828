"""The fast lane: a POSTed query that the compiled path answers whole, answered without
Strawberry.

Strawberry's own work for a request (its view, parsing the body again, its extensions, the
execution context, encoding) costs more CPU than the one statement that answers a compiled
read. Once Strawberry has parsed and validated a document with every rule of the schema and
the compiled path has served it (`PlanCache.admitted`), the same text is answered here: the
variables are coerced, the door's cost check runs with them, and the plan is bound as on the
extension's path (`execute.execute_admitted`). Anything else — a new document, a field that
runs on the resolver path, a variable or argument the resolver path would answer with an
error, a body that is not the plain JSON form, the database failing — returns None, and the
view hands the same request to Strawberry, which answers it as it always has. So the fast
lane never writes an error of its own, and its answers are the bytes Strawberry's path would
write (tested).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.graphql.compiled.cache import PlanCache
from app.graphql.compiled.execute import execute_admitted
from app.graphql.compiled.extension import resolver_path_forced
from app.graphql.door import count_read
from app.logs import current_request

_FIELDS = frozenset({"query", "operationName", "variables", "extensions"})


def is_json_post(request: Request) -> bool:
    if request.method != "POST":
        return False
    content_type = request.headers.get("content-type", "")
    return content_type.partition(";")[0].strip().lower() == "application/json"


def request_operation(body: bytes) -> tuple[str, str | None, dict[str, Any] | None] | None:
    """(query, operationName, variables) of a plain JSON request body, None for anything
    else (Strawberry judges it)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not _FIELDS.issuperset(data):
        return None
    query = data.get("query")
    name = data.get("operationName")
    variables = data.get("variables")
    extensions = data.get("extensions")
    if (
        not isinstance(query, str)
        or not (name is None or isinstance(name, str))
        or not (variables is None or isinstance(variables, dict))
        or not (extensions is None or isinstance(extensions, dict))
    ):
        return None
    return query, name, variables


class FastReads:
    def __init__(self, cache: PlanCache, db: Database, settings: Settings) -> None:
        self.cache = cache
        self.db = db
        self.settings = settings

    async def answer(
        self, request: Request, principal: Principal, media_type: str
    ) -> Response | None:
        if not self.cache.admitted or resolver_path_forced():
            return None
        operation = request_operation(await request.body())
        if operation is None:
            return None
        query, name, variables = operation
        try:
            compiled = await execute_admitted(
                self.db, principal, self.cache, query, name, variables, self.settings
            )
        except Exception:
            # A read has no side effects: Strawberry runs it again and answers whatever went
            # wrong (a timeout, a lost connection) as it always does, masked and logged once.
            return None
        if compiled is None:
            return None
        entry = current_request()
        if entry is not None:
            entry.operation = compiled.operation_name
            entry.operation_type = "query"
            entry.read_path = "compiled"
            entry.plan_cached = compiled.plan_cached
            count_read(entry)
        return Response(compiled.body, media_type=media_type)
