"""The plan cache.

- Documents by the sha256 of their text: parsed and validated once (an invalid one is
  remembered as such and never compiled).
- Plans by (document hash, operation name, role, values of the variables @skip/@include
  read, page-size limit): the role decides which fields may compile (permissions), the
  directive values which fields are selected at all. Variable types are part of the
  document, so of its hash. A plan also memoises the binding of each field's argument values
  (Strawberry's conversion, the contracts, the cursor decoding), which depends on nothing else.
- Inside a plan, statements by shape: which optional arguments are given (a filter field, an
  `after`, the type a node id names). A shape is a fixed set of SQL conditions, so its
  statement text, prepared by asyncpg once per connection, serves every request of that
  shape; the values are parameters.
A plan is independent of everything else in a request (the org comes as a parameter, the
values as parameters), so the live subscriptions' fan-out can run one statement for all
subscribers of a shape with `Statement.batch_sql` (see execute.execute_compiled_many).
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

import strawberry
from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails

from app.config import Settings

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.items: OrderedDict[K, V] = OrderedDict()

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        try:
            value = self.items[key]
        except KeyError:
            value = self.items[key] = build()
            if len(self.items) > self.maxsize:
                self.items.popitem(last=False)
            return value
        self.items.move_to_end(key)
        return value

    def get(self, key: K) -> V | None:
        """The value, kept as recently used; None when absent."""
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self.items)


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)
                elif not isinstance(argument.value, BooleanValueNode):
                    self.names.add("")  # pragma: no cover - validation refuses it


@dataclass(frozen=True)
class PreparedDocument:
    hash: str
    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    fragments: dict[str, FragmentDetails]
    directive_variables: tuple[str, ...]
    has_fragment_variables: bool

    @cached_property
    def fragment_definitions(self) -> dict[str, FragmentDefinitionNode]:
        return {name: details.definition for name, details in self.fragments.items()}

    def over_cost(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        settings: Settings,
    ) -> bool:
        """Whether the door would refuse `operation` with these variables for its cost: the
        check Strawberry's DoorChecks runs, for the fast lanes that run without it."""
        from app.graphql.door import cost_refusal

        return (
            cost_refusal(
                schema,
                operation,
                self.fragment_definitions,
                variables or {},
                max_cost=settings.max_query_cost,
                max_page_size=settings.max_page_size,
            )
            is not None
        )

    @classmethod
    def of(cls, digest: str, document: DocumentNode) -> PreparedDocument:
        operations: dict[str | None, OperationDefinitionNode] = {}
        fragments: dict[str, FragmentDetails] = {}
        has_fragment_variables = False
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value if definition.name else None] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = FragmentDetails(definition)
                has_fragment_variables |= bool(definition.variable_definitions)
        if len(operations) == 1:
            operations[None] = next(iter(operations.values()))
        elif None in operations:
            del operations[None]  # pragma: no cover - an anonymous one among several is invalid
        collector = _DirectiveVariables()
        visit(document, collector)
        return cls(
            digest,
            document,
            operations,
            fragments,
            tuple(sorted(collector.names)),
            has_fragment_variables,
        )


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PlanCache:
    def __init__(self, schema: strawberry.Schema, maxsize: int = 512) -> None:
        self.schema = schema
        self.documents: LRU[str, PreparedDocument | None] = LRU(maxsize)
        self.plans: LRU[tuple[Any, ...], Any] = LRU(maxsize)  # -> planner.OperationPlan
        # Texts of documents that Strawberry has parsed and validated with every rule of the
        # schema (its limits included) and that reached the compiled path: the fast lane
        # (app.graphql.compiled.http) answers only these, without Strawberry.
        self.admitted: LRU[str, PreparedDocument] = LRU(maxsize)

    def admit(self, text: str, prepared: PreparedDocument) -> None:
        self.admitted.get_or_build(text, lambda: prepared)

    def prepare(self, text: str, parsed: DocumentNode | None = None) -> PreparedDocument | None:
        """The document of `text`. `parsed` is the caller's parse of `text`, validated
        against this schema (Strawberry's, in the extension); without it the text is parsed
        and validated here, with graphql-core's standard rules."""
        digest = document_hash(text)

        def build() -> PreparedDocument | None:
            if parsed is not None:
                return PreparedDocument.of(digest, parsed)
            try:
                document = parse(text)  # with locations: errors of a remainder point into it
            except GraphQLError:
                return None
            if validate(self.schema._schema, document):
                return None
            return PreparedDocument.of(digest, document)

        return self.documents.get_or_build(digest, build)


_CACHES: weakref.WeakKeyDictionary[strawberry.Schema, PlanCache] = weakref.WeakKeyDictionary()


def plan_cache(schema: strawberry.Schema) -> PlanCache:
    """The process's cache for `schema`."""
    cache = _CACHES.get(schema)
    if cache is None:
        cache = _CACHES[schema] = PlanCache(schema)
    return cache
