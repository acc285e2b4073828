"""Checks at the door of every operation, after validation and before any resolver runs:
text without control characters, and a cost the server is willing to pay."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from app.core.errors import ErrorCode
from app.core.text import bad_text_paths, control_character
from app.graphql.cost import operation_cost
from app.logs import current_request


def _refuse(message: str, **extensions: Any) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])


def _literal_strings(value: ValueNode, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, StringValueNode):
        yield path, value.value
    elif isinstance(value, ObjectValueNode):
        for item in value.fields:
            yield from _literal_strings(item.value, f"{path}.{item.name.value}")
    elif isinstance(value, ListValueNode):
        for i, element in enumerate(value.values):
            yield from _literal_strings(element, f"{path}[{i}]")


@lru_cache(maxsize=512)
def _bad_literal(document: DocumentNode) -> tuple[str, str] | None:
    """The first string literal in the document's arguments carrying a control character."""
    found: list[tuple[str, str]] = []

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            for path, text in _literal_strings(node.value, node.name.value):
                if not found and (char := control_character(text)) is not None:
                    found.append((path, char))

    visit(document, Finder())
    return found[0] if found else None


class DoorChecks(SchemaExtension):
    """Refuses, with the field and a code, an operation whose text carries control characters
    (from variables or literals) or whose cost passes `max_cost` (see app.graphql.cost)."""

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
        for path, char in bad_text_paths(variables):
            return _text_refusal(path, char)
        if (literal := _bad_literal(document)) is not None:
            return _text_refusal(*literal)
        operation = _operation(document, operation_name)
        if operation is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        schema = self.execution_context.schema._schema
        cost = operation_cost(
            schema, operation, fragments, variables, self.max_page_size, self.max_cost
        )
        if cost > self.max_cost:
            return _refuse(
                f"This operation may resolve more than {self.max_cost} fields "
                f"(MAX_QUERY_COST); ask for smaller pages or fewer nested lists",
                code="QUERY_TOO_COSTLY",
                cost=cost,
                maxCost=self.max_cost,
            )
        return None


def _text_refusal(path: str, char: str) -> ExecutionResult:
    return _refuse(
        f"{path} contains a control character ({char}) that text may not hold",
        field=path,
        code=ErrorCode.INVALID_CHARACTERS.value,
    )


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


class RequestLogging(SchemaExtension):
    """Names the operation on the request's log line."""

    def on_execute(self) -> Iterator[None]:
        entry = current_request()
        if entry is not None:
            entry.operation = self.execution_context.operation_name
            with contextlib.suppress(RuntimeError):  # no single operation to name
                entry.operation_type = self.execution_context.operation_type.value
        yield
