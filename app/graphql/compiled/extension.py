"""Wiring into Strawberry: a schema extension that answers the compiled root fields of a query
before graphql-core executes anything, and leaves the rest to it; and the response encoder
that writes the compiled JSON text into the response as it is.

The extension runs in `on_execute`, so after parsing, validation and the door checks (cost,
limits): the compiled path sees only operations the resolver path would execute.
- Every root field compiles: the result is the compiled data; graphql-core does not run.
- Some do: graphql-core runs the operation with only the others (`CompiledResult.remainder`),
  then the two are merged in the operation's order. A null `data` from the resolver part (a
  non-null root field failed) stays null, as it would have been.
- None does (or it is not a query, or it comes over a WebSocket): nothing changes.
The compiled values are `RawJSON` in `result.data`; `encode_response` (the view's
`encode_json`) splices them in. json.dumps refuses them, so an unwired encoder fails loudly
rather than answer something else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from graphql import ExecutionResult
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from app.graphql.compiled.cache import PlanCache
from app.graphql.compiled.execute import CompiledResult, execute_compiled
from app.logs import current_request

_resolver_only: ContextVar[bool] = ContextVar("schoolgraph_resolver_only", default=False)


@contextmanager
def resolver_path_only() -> Iterator[None]:
    """Operations run inside this block skip the compiled path (differential tests)."""
    token = _resolver_only.set(True)
    try:
        yield
    finally:
        _resolver_only.reset(token)


def resolver_path_forced() -> bool:
    return _resolver_only.get()


class RawJSON:
    """JSON text to be written into a response as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({self.text[:40]!r})"


def _data(compiled: CompiledResult, resolved: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in compiled.order:
        if key in compiled.fields:
            data[key] = RawJSON(compiled.fields[key])
        elif resolved is not None and key in resolved:
            data[key] = resolved[key]
    return data


class CompiledReads(SchemaExtension):
    def __init__(self, *, cache: PlanCache | None = None) -> None:
        self.cache = cache

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        context: Any = ctx.context
        principal = getattr(context, "principal", None)
        if (
            ctx.result is not None
            or principal is None
            or _resolver_only.get()
            or not isinstance(ctx.query, str)
            or ctx.graphql_document is None
            or isinstance(getattr(context, "request", None), WebSocket)
        ):
            yield
            return
        compiled = await execute_compiled(
            context.db,
            principal,
            ctx.schema,
            ctx.query,
            ctx.operation_name,
            ctx.variables,
            context.settings,
            parsed=ctx.graphql_document,
            cache=self.cache,
        )
        if compiled is None:
            yield
            return
        if compiled.remainder is None:
            _served("compiled", compiled.plan_cached)
            ctx.result = ExecutionResult(data=_data(compiled, None), errors=None)
            yield
            return
        _served("mixed", compiled.plan_cached)
        ctx.graphql_document = compiled.remainder
        yield
        result = ctx.result
        if isinstance(result, ExecutionResult) and result.data is not None:
            result.data = _data(compiled, result.data)


def _served(path: str, plan_cached: bool | None) -> None:
    """Which read path answered, for the request's log line and /metrics (counted by
    app.graphql.door.RequestLogging)."""
    entry = current_request()
    if entry is not None:
        entry.read_path = path
        entry.plan_cached = plan_cached


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def encode_response(response: object) -> str:
    """The view's JSON encoder: `json.dumps` (compact, as Strawberry's), with the compiled
    root fields' text spliced in unparsed."""
    if not isinstance(response, dict):
        return _encode(response)
    data = response.get("data")
    if not isinstance(data, dict) or not any(isinstance(v, RawJSON) for v in data.values()):
        return _encode(response)
    parts = []
    for key, value in response.items():
        if key == "data":
            inner = ",".join(
                f"{_encode(k)}:{v.text if isinstance(v, RawJSON) else _encode(v)}"
                for k, v in data.items()
            )
            parts.append(f'"data":{{{inner}}}')
        else:
            parts.append(f"{_encode(key)}:{_encode(value)}")
    return "{" + ",".join(parts) + "}"
