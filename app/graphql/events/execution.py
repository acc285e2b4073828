"""One execution per event for the subscribers who asked the same thing.

graphql-core executes a subscription's selection set once per event per subscriber. A
thousand dashboards following one school with the same document would run it a thousand
times, reading the same rows. The payloads our subscriptions yield carry the event's
`shared` dict (one per event, the same object for every subscriber); this executor keeps
the execution's result there, keyed by the operation (the parsed document is cached, so the
same text is the same node), its variables and the subscriber's role (permissions are per
role), and every later subscriber of that event is handed the same result, its data marked
`SharedData` so that the view encodes it once too (app.graphql.events.encoding): what is
left per subscriber is writing it to its socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.graphql.events.encoding import SharedData


def _key(executor: Any) -> tuple[Any, ...] | None:
    principal = getattr(executor.context_value, "principal", None)
    if principal is None:
        return None
    variables = json.dumps(executor.variable_values.coerced, sort_keys=True, default=str)
    return ("execution", id(executor.operation), variables, principal.org_id, principal.role)


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, "shared", None)
        key = _key(self) if isinstance(shared, dict) else None
        if key is None:
            return super().execute_operation(serially)
        assert isinstance(shared, dict)
        found = shared.get(key)
        # The key holds the operation's id: the entry keeps the operation itself alive (and
        # is checked against it), so a freed document's id cannot be taken for another's.
        if found is None or found[0] is not self.operation:
            result = super().execute_operation(serially)
            future = (
                asyncio.ensure_future(_marked(result))
                if self.is_awaitable(result)
                else _done(_mark(cast(ExecutionResult, result)))
            )
            found = shared[key] = (self.operation, future)
        return found[1]


def _mark(result: ExecutionResult) -> ExecutionResult:
    if result.data is not None and not result.errors:
        result.data = SharedData(result.data)
    return result


async def _marked(result: Any) -> ExecutionResult:
    return _mark(await result)


def _done(result: ExecutionResult) -> asyncio.Future[ExecutionResult]:
    future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future
