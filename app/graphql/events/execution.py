"""One execution per event for the subscribers who asked the same thing.

graphql-core executes a subscription's selection set once per event per subscriber. A
thousand dashboards following one school with the same document would run it a thousand
times, reading the same rows. The payloads our subscriptions yield carry the event's
`shared` dict (one per event, the same object for every subscriber); this executor keeps
the execution's result there, keyed by the operation (the parsed document is cached, so the
same text is the same node), its variables and the subscriber's role (permissions are per
role), and every later subscriber of that event is handed the same result: what is left per
subscriber is serialising it onto its socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


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
        if found is None:
            result = super().execute_operation(serially)
            found = shared[key] = (
                asyncio.ensure_future(result)
                if self.is_awaitable(result)
                else _done(cast(ExecutionResult, result))
            )
        return found


def _done(result: ExecutionResult) -> asyncio.Future[ExecutionResult]:
    future: asyncio.Future[ExecutionResult] = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future
