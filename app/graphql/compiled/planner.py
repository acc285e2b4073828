"""The planner: a validated operation's selection set, walked once against the schema and the
declarations, as a plan per root field, or the reason that root field runs on the resolver
path.

Fields are collected by graphql-core's own `collect_fields`/`collect_subfields` (the
functions its executor calls), so fragments, inline fragments, type conditions, aliases,
merged duplicate fields and @skip/@include mean exactly what they mean on the resolver path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from app.db import Base
from app.graphql.compiled import sqltext
from app.graphql.compiled.cache import LRU
from app.graphql.compiled.declarations import (
    ROOT_CONNECTIONS,
    ROOT_OBJECTS,
    ROW_TYPES,
    Column,
    ResolverOnly,
    ToManyConnection,
    ToOne,
)
from app.graphql.compiled.plan import (
    ConnectionItem,
    ConnectionPlan,
    CursorItem,
    EdgesItem,
    NodeItem,
    NotCompilable,
    ObjectField,
    ObjectPlan,
    PageInfoItem,
    RootConnectionPlan,
    RootObjectPlan,
    RootPlan,
    RootTypename,
    ScalarItem,
    Site,
    ToOneItem,
    TypenameItem,
)
from app.graphql.contracts import EnforceContracts
from app.graphql.permissions import ALL_ROLES, STAFF, TEACHING, allow
from app.orgs.models import Role

PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
MAX_OBJECT_KEYS = 50  # json_build_object takes at most 100 arguments

# The permission classes the resolver path declares, as the roles they admit. `allow` is
# cached, so a field declared with allow(*STAFF) holds this very class.
_ROLE_SETS: tuple[tuple[Role, ...], ...] = (ALL_ROLES, STAFF, TEACHING, *((r,) for r in Role))
_KNOWN_PERMISSIONS: dict[type[Any], frozenset[Role]] = {
    allow(*roles): frozenset(roles) for roles in _ROLE_SETS
}


@dataclass
class OperationPlan:
    """Per root response key, in the operation's order: its plan, or why it is refused."""

    document: DocumentNode
    operation: OperationDefinitionNode
    order: list[str]
    roots: dict[str, RootPlan]
    refused: dict[str, str]
    field_nodes: dict[str, list[FieldNode]]
    statements: dict[Any, Any] = field(default_factory=dict)  # shape -> compiler.Statement
    bindings: LRU[tuple[Any, ...], Any] = field(default_factory=lambda: LRU(256))
    _remainders: dict[frozenset[str], DocumentNode] = field(default_factory=dict)

    def remainder(self, keys: frozenset[str]) -> DocumentNode:
        """The operation with only the root fields `keys`, for the resolver path: their field
        nodes as collected (fragments kept for what is below them)."""
        found = self._remainders.get(keys)
        if found is None:
            selections = tuple(
                node for key in self.order if key in keys for node in self.field_nodes[key]
            )
            operation = OperationDefinitionNode(
                operation=self.operation.operation,
                name=self.operation.name,
                variable_definitions=self.operation.variable_definitions,
                directives=self.operation.directives,
                selection_set=SelectionSetNode(selections=selections),
            )
            fragments = tuple(
                d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)
            )
            found = self._remainders[keys] = DocumentNode(definitions=(operation, *fragments))
        return found


def readable(sfield: StrawberryField | None, role: Role) -> str | None:
    """Why `role` may not read this field on the compiled path (None: it may)."""
    if sfield is None:
        return "no Strawberry field"
    for extension in sfield.extensions:
        if not isinstance(extension, PermissionExtension | EnforceContracts):
            return f"field extension {type(extension).__name__}"
    roles = frozenset(Role)
    for permission in sfield.permission_classes:
        known = _KNOWN_PERMISSIONS.get(permission)
        if known is None:
            return f"permission {permission.__name__}"
        roles &= known
    if role not in roles:
        return f"role {role.value} may not read {sfield.name}"
    return None


def _not_null_columns(table: str, columns: tuple[str, ...]) -> bool:
    return all(not Base.metadata.tables[table].c[name].nullable for name in columns)


class Planner:
    def __init__(
        self,
        schema: strawberry.Schema,
        fragments: dict[str, FragmentDetails],
        variable_values: VariableValues,
        operation: OperationDefinitionNode,
        role: Role,
    ) -> None:
        self.schema = schema
        self.graphql: GraphQLSchema = schema._schema
        self.fragments = fragments
        self.variables = variable_values
        self.operation = operation
        self.role = role
        self.sites = 0

    def plan(self, document: DocumentNode) -> OperationPlan:
        root = self.graphql.query_type
        assert root is not None
        grouped = collect_fields(
            self.graphql, self.fragments, self.variables, root, self.operation
        ).grouped_field_set
        roots: dict[str, RootPlan] = {}
        refused: dict[str, str] = {}
        if self.operation.operation != OperationType.QUERY:
            refused = {key: "not a query" for key in grouped}
        else:
            for key, details in grouped.items():
                try:
                    roots[key] = self._root(root, key, details)
                except NotCompilable as exc:
                    refused[key] = exc.reason
        return OperationPlan(
            document=document,
            operation=self.operation,
            order=list(grouped),
            roots=roots,
            refused=refused,
            field_nodes={key: [d.node for d in details] for key, details in grouped.items()},
        )

    # --- helpers ---------------------------------------------------------------------------

    def _check_details(self, details: list[FieldDetails]) -> str:
        for detail in details:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                raise NotCompilable("@defer or fragment arguments")
        return details[0].node.name.value

    def _field(self, parent: GraphQLObjectType, name: str) -> tuple[GraphQLField, StrawberryField]:
        definition = parent.fields.get(name)
        sfield = self.schema.get_field_for_type(name, parent.name)
        if definition is None or sfield is None:
            raise NotCompilable(f"{parent.name}.{name} is not a field")
        reason = readable(sfield, self.role)
        if reason is not None:
            raise NotCompilable(f"{parent.name}.{name}: {reason}")
        return definition, sfield

    def _site(self, definition: GraphQLField, node: FieldNode, sfield: StrawberryField) -> Site:
        self.sites += 1
        return Site(self.sites, definition, node, sfield)

    def _sub(
        self, parent: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        grouped = collect_subfields(
            self.graphql, self.fragments, self.variables, self.operation, parent, details
        ).grouped_field_set
        if len(grouped) > MAX_OBJECT_KEYS:
            raise NotCompilable(f"more than {MAX_OBJECT_KEYS} fields on one {parent.name}")
        for key in grouped:
            sqltext.literal_name(key)
        return grouped

    def _object_type(self, definition: GraphQLField) -> GraphQLObjectType:
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            raise NotCompilable(f"{named.name} is not an object type")
        return named

    # --- roots -----------------------------------------------------------------------------

    def _root(self, root: GraphQLObjectType, key: str, details: list[FieldDetails]) -> RootPlan:
        name = self._check_details(details)
        if name == "__typename":
            return RootTypename(key, root.name)
        if name not in ROOT_CONNECTIONS and name not in ROOT_OBJECTS and name != "node":
            raise NotCompilable(f"Query.{name} has no compiled form")
        definition, sfield = self._field(root, name)
        site = self._site(definition, details[0].node, sfield)
        if name in ROOT_CONNECTIONS:
            declaration = ROOT_CONNECTIONS[name]
            sqltext.sort_columns(declaration.order)
            conn_type = self._object_type(definition)
            plan = self._connection(conn_type, details, site, declaration.target)
            return RootConnectionPlan(key, declaration, plan)
        candidates = [ROOT_OBJECTS[name]] if name in ROOT_OBJECTS else list(ROW_TYPES)
        returned: Any = get_named_type(definition.type)
        variants: dict[str, ObjectPlan] = {}
        refused: dict[str, str] = {}
        for type_name in candidates:
            gtype = self.graphql.get_type(type_name)
            if not isinstance(gtype, GraphQLObjectType) or not (
                gtype is returned or self.graphql.is_sub_type(returned, gtype)
            ):
                continue
            try:
                variants[type_name] = self._object(gtype, details)
            except NotCompilable as exc:
                refused[type_name] = exc.reason
        if not variants:
            raise NotCompilable("; ".join(refused.values()) or f"Query.{name}: no variant")
        return RootObjectPlan(key, site, name, variants, refused)

    # --- objects ---------------------------------------------------------------------------

    def _object(self, gtype: GraphQLObjectType, details: list[FieldDetails]) -> ObjectPlan:
        row = ROW_TYPES.get(gtype.name)
        if row is None:
            raise NotCompilable(f"{gtype.name} has no declarations")
        items: list[ObjectField] = []
        for key, sub in self._sub(gtype, details).items():
            name = self._check_details(sub)
            if name == "__typename":
                items.append(TypenameItem(key, gtype.name))
                continue
            declaration = row.fields.get(name)
            if declaration is None:
                raise NotCompilable(f"{gtype.name}.{name} has no declaration")
            if isinstance(declaration, ResolverOnly):
                raise NotCompilable(f"{gtype.name}.{name} is resolver-only: {declaration.reason}")
            definition, sfield = self._field(gtype, name)
            items.append(
                self._object_field(gtype, row.table, key, sub, declaration, definition, sfield)
            )
        return ObjectPlan(gtype.name, row, items)

    def _object_field(
        self,
        gtype: GraphQLObjectType,
        table: str,
        key: str,
        sub: list[FieldDetails],
        declaration: Column | ToOne | ToManyConnection,
        definition: GraphQLField,
        sfield: StrawberryField,
    ) -> ObjectField:
        where = f"{gtype.name}.{sub[0].node.name.value}"
        if isinstance(declaration, Column):
            named = get_named_type(definition.type)
            if named.name != declaration.graphql_type:
                raise NotCompilable(
                    f"{where} is a {named.name}, declared {declaration.graphql_type}"
                )
            if sfield.base_resolver is not None and not declaration.mirrors_resolver:
                raise NotCompilable(f"{where} has a resolver")
            if (
                isinstance(definition.type, GraphQLNonNull)
                and not declaration.never_null
                and not _not_null_columns(table, declaration.columns)
            ):
                raise NotCompilable(f"{where} is non-null over a nullable column")
            return ScalarItem(key, declaration)
        target = self._object_type(definition)
        if isinstance(declaration, ToOne):
            if target.name != declaration.target or isinstance(definition.type, GraphQLNonNull):
                raise NotCompilable(f"{where} does not match its declaration")
            return ToOneItem(key, declaration, self._object(target, sub))
        sqltext.sort_columns(declaration.order)
        site = self._site(definition, sub[0].node, sfield)
        connection = self._connection(target, sub, site, declaration.target)
        return ConnectionItem(key, declaration, connection)

    # --- connections -----------------------------------------------------------------------

    def _connection(
        self, conn_type: GraphQLObjectType, details: list[FieldDetails], site: Site, target: str
    ) -> ConnectionPlan:
        plan = ConnectionPlan(conn_type.name, site, target)
        for key, sub in self._sub(conn_type, details).items():
            name = self._check_details(sub)
            if name == "__typename":
                plan.items.append(TypenameItem(key, conn_type.name))
                continue
            definition, _ = self._field(conn_type, name)
            inner = self._object_type(definition)
            if name == "edges":
                plan.items.append(self._edges(key, inner, sub, target))
            elif name == "nodes":
                plan.items.append(NodeItem(key, self._node(inner, sub, target)))
            elif name == "pageInfo":
                plan.items.append(self._page_info(key, inner, sub))
            else:
                raise NotCompilable(f"{conn_type.name}.{name} has no compiled form")
        return plan

    def _node(
        self, gtype: GraphQLObjectType, details: list[FieldDetails], target: str
    ) -> ObjectPlan:
        if gtype.name != target:
            raise NotCompilable(f"a connection of {gtype.name}, declared {target}")
        return self._object(gtype, details)

    def _edges(
        self, key: str, edge_type: GraphQLObjectType, details: list[FieldDetails], target: str
    ) -> EdgesItem:
        items: list[NodeItem | CursorItem | TypenameItem] = []
        for sub_key, sub in self._sub(edge_type, details).items():
            name = self._check_details(sub)
            if name == "__typename":
                items.append(TypenameItem(sub_key, edge_type.name))
                continue
            definition, _ = self._field(edge_type, name)
            if name == "node":
                items.append(
                    NodeItem(sub_key, self._node(self._object_type(definition), sub, target))
                )
            elif name == "cursor":
                items.append(CursorItem(sub_key))
            else:
                raise NotCompilable(f"{edge_type.name}.{name} has no compiled form")
        return EdgesItem(key, edge_type.name, items)

    def _page_info(
        self, key: str, info_type: GraphQLObjectType, details: list[FieldDetails]
    ) -> PageInfoItem:
        items: list[tuple[str, str]] = []
        for sub_key, sub in self._sub(info_type, details).items():
            name = self._check_details(sub)
            if name != "__typename":
                self._field(info_type, name)
                if name not in PAGE_INFO_FIELDS:
                    raise NotCompilable(f"{info_type.name}.{name} has no compiled form")
            items.append((sub_key, name))
        return PageInfoItem(key, info_type.name, items)
