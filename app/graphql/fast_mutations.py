"""The fast lane for mutations: a POSTed mutation that Strawberry has already run cleanly,
run again on graphql-core's executor without Strawberry's request machinery.

A logIncident spends about as much CPU in Strawberry's view and schema extensions (parsing
the body again, the request adapter, the extensions' hooks, the parser and validation caches)
as in its own execution. Once Strawberry has parsed and validated a mutation document with
every rule of the schema, the door passed it, and it ran for a role without any error
(`AdmitMutations`), the same text from that role is executed here directly: the variables
are coerced and the door's cost check runs with them, then graphql-core executes the
validated document with the same context, resolvers, field extensions (permissions, input
contracts) and error processing (`Schema.process_errors`), and the result is written as
Strawberry writes it. Anything else — a new document, another role, variables the executor
would refuse, a cost over the limit, a body that is not the plain JSON form — returns None
before anything runs, and the view hands the request to Strawberry as always. So a
mutation's answer is the same on either path (tested), and the lane never writes an error
of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import DocumentNode, execute
from graphql.execution.values import VariableValues, get_variable_values
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.types.graphql import OperationType as StrawberryOperationType
from strawberry.utils.await_maybe import await_maybe

from app.auth.principal import Principal
from app.graphql.compiled.cache import LRU, PreparedDocument, document_hash
from app.graphql.compiled.http import request_operation
from app.graphql.context import Context
from app.graphql.door import count_write
from app.logs import current_request
from app.orgs.models import Role

_LANES: dict[int, MutationLane] = {}


class MutationLane:
    """The mutation documents admitted, per (text, operation name, role)."""

    def __init__(self, schema: strawberry.Schema, maxsize: int = 256) -> None:
        self.schema = schema
        self.admitted: LRU[tuple[str, str | None, Role], PreparedDocument] = LRU(maxsize)

    def admit(
        self, text: str, operation_name: str | None, role: Role, document: DocumentNode
    ) -> None:
        self.admitted.get_or_build(
            (text, operation_name, role), lambda: PreparedDocument.of(document_hash(text), document)
        )


def mutation_lane(schema: strawberry.Schema) -> MutationLane:
    """The schema's lane: one per schema object, shared by its requests."""
    lane = _LANES.get(id(schema))
    if lane is None or lane.schema is not schema:
        lane = _LANES[id(schema)] = MutationLane(schema)
    return lane


class AdmitMutations(SchemaExtension):
    """After Strawberry has run a mutation over HTTP without any error (parse, validation,
    the door, execution), its text is admitted to the lane for that role."""

    def on_execute(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        context: Any = ctx.context
        principal = getattr(context, "principal", None)
        result = ctx.result
        if (
            principal is None
            or not isinstance(ctx.query, str)
            or ctx.graphql_document is None
            or isinstance(getattr(context, "request", None), WebSocket)
            or result is None
            or getattr(result, "errors", None)
            or ctx.pre_execution_errors
        ):
            return
        try:
            operation = ctx.operation_type
        except RuntimeError:  # no single operation
            return
        if operation is not StrawberryOperationType.MUTATION:
            return
        # Under the operationName the request gave (None when the document has one operation
        # and the request named none), as the lane looks it up.
        provided: str | None = getattr(ctx, "_provided_operation_name", None)
        mutation_lane(ctx.schema).admit(ctx.query, provided, principal.role, ctx.graphql_document)


class FastMutations:
    def __init__(self, schema: strawberry.Schema, context: Context) -> None:
        self.schema = schema
        self.lane = mutation_lane(schema)
        self.context = context  # the fields every request's context shares

    async def answer(
        self,
        request: Request,
        principal: Principal,
        media_type: str,
        encode: Callable[[object], str],
    ) -> Response | None:
        if not self.lane.admitted.items:
            return None
        operation = request_operation(await request.body())
        if operation is None:
            return None
        query, name, variables = operation
        prepared = self.lane.admitted.get((query, name, principal.role))
        if prepared is None:
            return None
        definition = prepared.operations.get(name)
        if definition is None:
            return None
        graphql_schema = self.schema._schema
        coerced = get_variable_values(
            graphql_schema, definition.variable_definitions or (), variables or {}
        )
        if not isinstance(coerced, VariableValues):
            return None  # Strawberry answers the variables' errors
        settings = self.context.settings
        if prepared.over_cost(graphql_schema, definition, variables, settings):
            return None
        context = Context(
            db=self.context.db,
            settings=settings,
            principal=principal,
            request=request,
            rate_limiter=self.context.rate_limiter,
            live=self.context.live,
            queue=self.context.queue,
        )
        entry = current_request()
        if entry is not None:
            entry.operation = definition.name.value if definition.name else None
            entry.operation_type = "mutation"
            count_write(entry, "lane")
        result = await await_maybe(
            execute(
                graphql_schema,
                prepared.document,
                variable_values=variables,
                operation_name=name,
                context_value=context,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # as Strawberry
                **execution_context_class_kwargs(self.schema.execution_context_class),
            )
        )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            self.schema._process_errors(result.errors)
            body["errors"] = [error.formatted for error in result.errors]
        return Response(encode(body), media_type=media_type)
