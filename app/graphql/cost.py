"""The cost of a GraphQL operation: how many fields it may resolve, before it runs.

Every field costs 1 for each object it is resolved on. A field taking a page size
(`first`, `last`) or a `limit` multiplies everything selected below it by that size: its
value from the document or the variables, else the argument's default, else the largest
page a client may ask for. A list without a page argument multiplies by the size it
declares (LIST_SIZE), else 1. Fragments count where they are spread; `@skip`/`@include` are
ignored (the cost is an upper bound). So `students(first: 30) { edges { node { id name } } }`
costs 1 + 30 x (1 + 1 + 2) = 121, and a fan-out of 100 x 100 x 100 costs over a million.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from app.core.pagination import DEFAULT_PAGE_SIZE

PAGE_ARGUMENTS = ("first", "last", "limit")
_MISSING = object()
# Field metadata: the page a connection serves when neither first nor last is given
# (app.graphql.relay.page_for reads it for the resolvers and the compiled binding alike).
PAGE_DEFAULT = "schoolgraph.page_default"
# A list field without a page argument declares how long it may be, for its cost:
# strawberry.field(metadata={LIST_SIZE: 400}). Undeclared lists count as short (1).
LIST_SIZE = "schoolgraph.list_size"


def _page_size(
    node: FieldNode, field: GraphQLField, variables: Mapping[str, Any], max_page: int
) -> int:
    sizes: list[int] = []
    given = {arg.name.value: arg.value for arg in node.arguments or ()}
    paged = False
    for name in PAGE_ARGUMENTS:
        if name not in field.args:
            continue
        paged = True
        value_node = given.get(name)
        if value_node is None or isinstance(value_node, NullValueNode):
            default = field.args[name].default_value
            if isinstance(default, int):
                sizes.append(min(default, max_page))
            continue  # not given: the field's default page (below)
        value: Any = None
        if isinstance(value_node, IntValueNode):
            value = int(value_node.value)
        elif isinstance(value_node, VariableNode):
            value = variables.get(value_node.name.value, _MISSING)
            if value is None:
                continue  # null: the default page
        # A size from a missing variable or an absurd one counts as the largest page served.
        sizes.append(value if isinstance(value, int) and 0 <= value <= max_page else max_page)
    if sizes:
        return max(sizes)
    definition = (field.extensions or {}).get("strawberry-definition")
    if paged:
        metadata = getattr(definition, "metadata", None) or {}
        return min(int(metadata.get(PAGE_DEFAULT, DEFAULT_PAGE_SIZE)), max_page)
    declared = (getattr(definition, "metadata", None) or {}).get(LIST_SIZE)
    return declared if isinstance(declared, int) else 1


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    max_page: int,
    limit: int,
) -> int:
    """The operation's cost; stops counting once it passes `limit` (the answer is then > limit)."""
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]

    # A fragment costs the same wherever it is spread (page sizes come from the variables,
    # not from the place): computed once, so `...F ...F` nested n deep is not 2^n walks.
    fragment_costs: dict[str, int] = {}

    def selection_cost(
        selection_set: SelectionSetNode | None, parent: Any, seen: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        # Unions have no fields of their own: only their fragments select anything.
        has_fields = isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        fields = parent.fields if has_fields else {}
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = fields.get(selection.name.value)
                if field is None:  # __typename and introspection: one each
                    total += 1
                    continue
                size = _page_size(selection, field, variables, max_page)
                below = (
                    selection_cost(selection.selection_set, get_named_type(field.type), seen)
                    if size
                    else 0
                )
                total += 1 + size * below
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                total += selection_cost(selection.selection_set, target or parent, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:  # validation refuses cycles anyway
                    continue
                if name not in fragment_costs:
                    target = schema.get_type(fragment.type_condition.name.value)
                    fragment_costs[name] = selection_cost(
                        fragment.selection_set, target, seen | {name}
                    )
                total += fragment_costs[name]
            if total > limit:
                return total
        return total

    return selection_cost(operation.selection_set, root, frozenset())


def expanded_size(document: DocumentNode, limit: int) -> int:
    """How many selections the document has once its fragments are spread out, counted with
    each fragment's size computed once; stops past `limit`. Validation rules (the depth
    limiter among them) walk the expanded tree, so a few hundred tokens of fragments spread
    twice at each of a dozen levels would cost them minutes: this is checked first."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}

    def size(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += 1 + size(selection.selection_set, seen)
            elif isinstance(selection, InlineFragmentNode):
                total += size(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen or name not in fragments:  # validation refuses these
                    continue
                if name not in sizes:
                    sizes[name] = size(fragments[name].selection_set, seen | {name})
                total += sizes[name]
            if total > limit:
                return total
        return total

    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += size(definition.selection_set, frozenset())
    return total
