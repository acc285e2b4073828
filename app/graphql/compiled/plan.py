"""The plan of an operation: what each root field selects, as the compiler needs it.

Built once per (document, operation, role, @skip/@include values) by the planner; argument
values are bound per request (app.graphql.compiled.binding), so one plan serves every
request of the same document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import FieldNode, GraphQLField
from strawberry.types.field import StrawberryField

from app.graphql.compiled.declarations import (
    Column,
    RootConnection,
    RowType,
    ToManyConnection,
    ToOne,
)


class NotCompilable(Exception):
    """The selection (or this request's arguments) must run on the resolver path."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Site:
    """A field whose arguments are bound per request: a root field or a nested connection."""

    index: int
    definition: GraphQLField
    node: FieldNode
    strawberry_field: StrawberryField


@dataclass
class ScalarItem:
    key: str
    column: Column


@dataclass
class TypenameItem:
    key: str
    type_name: str


@dataclass
class ToOneItem:
    key: str
    relation: ToOne
    target: ObjectPlan


@dataclass
class ConnectionItem:
    key: str
    relation: ToManyConnection
    connection: ConnectionPlan


ObjectField = ScalarItem | TypenameItem | ToOneItem | ConnectionItem


@dataclass
class ObjectPlan:
    type_name: str
    row: RowType
    items: list[ObjectField]


@dataclass
class CursorItem:
    key: str


@dataclass
class NodeItem:
    """An edge's `node`, or a connection's `nodes` (a list of the same)."""

    key: str
    target: ObjectPlan


@dataclass
class EdgesItem:
    key: str
    type_name: str
    items: list[NodeItem | CursorItem | TypenameItem]


@dataclass
class PageInfoItem:
    key: str
    type_name: str
    items: list[tuple[str, str]]  # (key, PageInfo field name or "__typename")


ConnectionField = EdgesItem | NodeItem | PageInfoItem | TypenameItem


@dataclass
class ConnectionPlan:
    type_name: str
    site: Site
    order_target: str  # the node type
    items: list[ConnectionField] = field(default_factory=list)

    @property
    def wants_cursor_bounds(self) -> bool:
        """pageInfo asks for a cursor that may be the page's last ranked row (endCursor
        forward, startCursor backward): the statement then counts the rows it fetched."""
        return any(
            isinstance(item, PageInfoItem)
            and any(f in ("startCursor", "endCursor") for _, f in item.items)
            for item in self.items
        )

    def node_plans(self) -> list[ObjectPlan]:
        plans: list[ObjectPlan] = []
        for item in self.items:
            if isinstance(item, NodeItem):
                plans.append(item.target)
            elif isinstance(item, EdgesItem):
                plans += [i.target for i in item.items if isinstance(i, NodeItem)]
        return plans


@dataclass
class RootConnectionPlan:
    key: str
    declaration: RootConnection
    connection: ConnectionPlan


@dataclass
class RootObjectPlan:
    """`student(id:)` and `node(id:)`: the row of a global id, by its type."""

    key: str
    site: Site
    field_name: str
    variants: dict[str, ObjectPlan]  # by the type named in the id
    refused: dict[str, str]  # type -> why that type's selection is not compilable


@dataclass
class RootTypename:
    key: str
    type_name: str


RootPlan = RootConnectionPlan | RootObjectPlan | RootTypename


def object_sites(plan: ObjectPlan) -> list[Site]:
    """The nested connections' sites below an object, in plan order."""
    found: list[Site] = []
    for item in plan.items:
        if isinstance(item, ToOneItem):
            found += object_sites(item.target)
        elif isinstance(item, ConnectionItem):
            found += connection_sites(item.connection)
    return found


def connection_sites(plan: ConnectionPlan) -> list[Site]:
    found = [plan.site]
    for node in plan.node_plans():
        found += object_sites(node)
    return found
