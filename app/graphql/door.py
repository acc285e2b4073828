"""Checks at the door of every operation, after validation and before any resolver runs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension

from app.graphql.cost import expanded_size, operation_cost
from app.logs import RequestEntry, current_request
from app.metrics import READS, WRITES


def _refuse(message: str, **extensions: Any) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


class DoorChecks(SchemaExtension):
    """Refuses an operation whose cost passes `max_cost` (see app.graphql.cost) before any
    resolver runs. (Each field's arguments are then checked against their input contracts:
    app.graphql.contracts.)"""

    def __init__(self, *, max_cost: int, max_page_size: int) -> None:
        self.max_cost = max_cost
        self.max_page_size = max_page_size

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            ctx.result = self._check(document, ctx.variables or {}, ctx.operation_name)
        yield

    def _check(
        self, document: DocumentNode, variables: dict[str, Any], operation_name: str | None
    ) -> ExecutionResult | None:
        operation = _operation(document, operation_name)
        if operation is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return cost_refusal(
            self.execution_context.schema._schema,
            operation,
            fragments,
            variables,
            max_cost=self.max_cost,
            max_page_size=self.max_page_size,
        )


def cost_refusal(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    *,
    max_cost: int,
    max_page_size: int,
) -> ExecutionResult | None:
    """The refusal of an operation that costs more than `max_cost` with these variables (see
    app.graphql.cost), None when it may run. The compiled path's fast lane asks it too."""
    cost = operation_cost(schema, operation, fragments, variables, max_page_size, max_cost)
    if cost > max_cost:
        return _refuse(
            f"This operation may resolve more than {max_cost} fields "
            f"(MAX_QUERY_COST); ask for smaller pages or fewer nested lists",
            code="QUERY_TOO_COSTLY",
            cost=cost,
            maxCost=max_cost,
        )
    return None


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


MAX_EXPANDED_SELECTIONS = 20_000


class FragmentExpansionLimit(SchemaExtension):
    """Refuses, before validation, a document whose fragments spread out to more than
    MAX_EXPANDED_SELECTIONS selections (see cost.expanded_size). Its size is cached with the
    parsed document."""

    def on_parse(self) -> Iterator[None]:
        yield
        document = self.execution_context.graphql_document
        if document is not None and _too_large(document):
            raise GraphQLError(
                f"This document spreads its fragments out to more than "
                f"{MAX_EXPANDED_SELECTIONS} selections",
                extensions={"code": "QUERY_TOO_COMPLEX"},
            )


@lru_cache(maxsize=512)
def _too_large(document: DocumentNode) -> bool:
    return expanded_size(document, MAX_EXPANDED_SELECTIONS) > MAX_EXPANDED_SELECTIONS


class RequestLogging(SchemaExtension):
    """Names the operation on the request's log line, and counts which read path answered
    a query (app.graphql.compiled sets it; a query it did not take was resolved) and which
    path ran a mutation (here: Strawberry; the lane counts its own)."""

    def on_execute(self) -> Iterator[None]:
        entry = current_request()
        if entry is not None:
            entry.operation = self.execution_context.operation_name
            with contextlib.suppress(RuntimeError):  # no single operation to name
                entry.operation_type = self.execution_context.operation_type.value
        yield
        if entry is not None and entry.operation_type == "query":
            count_read(entry)
        elif entry is not None and entry.operation_type == "mutation":
            count_write(entry, "strawberry")


def count_read(entry: RequestEntry) -> None:
    """Counts which read path answered a query, and whether its plan was cached."""
    entry.read_path = entry.read_path or "resolved"
    cached = "n/a" if entry.plan_cached is None else str(entry.plan_cached).lower()
    READS.labels(entry.read_path, cached).inc()


def count_write(entry: RequestEntry, path: str) -> None:
    """Names and counts the path that ran a mutation: `lane` or `strawberry`."""
    entry.write_path = path
    WRITES.labels(path).inc()
