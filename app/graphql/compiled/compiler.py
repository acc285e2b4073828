"""The SQL compiler: a plan and its bound shape as one statement whose columns are the JSON
text of each compiled root field.

- A connection is a correlated subquery: the rows of the page and one look-ahead row
  (`LIMIT first + 1`, the keyset seek of pagination.apply_keyset as a row comparison), ranked,
  then aggregated: `json_agg(...) FILTER (WHERE rank <= first)` for edges and nodes, and
  pageInfo from the same rows (hasNextPage: more than `first`; start and end cursors of the
  first and last ranked row of the page). A FILTERed aggregate evaluates its argument only for
  the rows it keeps, so nothing below the look-ahead row is ever computed.
- A to-one relation and a root object are a correlated subquery over their table.
- Every table is filtered by the caller's org, as the services do, under RLS as well.
- Parameters are columns of a relation `v`: one row of VALUES for a request, or
  `unnest(...) WITH ORDINALITY` of arrays for many variable sets at once (the live
  subscriptions' fan-out: one plan, one statement, one row per subscriber).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.core.pagination import SortKey, reversed_keys
from app.graphql.compiled import sqltext
from app.graphql.compiled.binding import BoundSite
from app.graphql.compiled.declarations import ROW_TYPES, Column, Filter, RowType, Scalar
from app.graphql.compiled.plan import (
    ConnectionItem,
    ConnectionPlan,
    CursorItem,
    EdgesItem,
    NodeItem,
    ObjectPlan,
    PageInfoItem,
    RootConnectionPlan,
    RootObjectPlan,
    RootPlan,
    ScalarItem,
    ToOneItem,
    TypenameItem,
)

GLOBAL_SITE = 0  # the parameters every statement has (the org)


@dataclass(frozen=True)
class Statement:
    sql: str  # for one request
    batch_sql: str  # for many: each parameter an array, one result row per element
    slots: tuple[tuple[int, str], ...]  # ($1, $2, ...) as (site index, value name)
    types: tuple[str, ...]
    keys: tuple[str, ...]  # the response key of each result column


class Compiler:
    def __init__(self, bound: Mapping[int, BoundSite]) -> None:
        self.bound = bound
        self.slots: list[tuple[int, str]] = []
        self.types: list[str] = []
        self.aliases = 0

    def param(self, site: int, name: str, sql_type: str) -> str:
        slot = (site, name)
        if slot not in self.slots:
            self.slots.append(slot)
            self.types.append(sql_type)
        return f"v.p{self.slots.index(slot) + 1}"

    def alias(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    @property
    def org(self) -> str:
        return self.param(GLOBAL_SITE, "org", "uuid")

    # --- objects -----------------------------------------------------------------------------

    def scalar(self, column: Column, alias: str) -> str:
        expression = column.expression.format(t=alias)
        if column.scalar is Scalar.GLOBAL_ID:
            assert column.type_name is not None
            return sqltext.global_id(column.type_name, expression)
        if column.scalar is Scalar.DATETIME:
            return sqltext.iso_datetime(expression)
        return expression

    def object_json(self, plan: ObjectPlan, alias: str) -> str:
        pairs: list[str] = []
        for item in plan.items:
            if isinstance(item, ScalarItem):
                value = self.scalar(item.column, alias)
            elif isinstance(item, TypenameItem):
                value = f"text {sqltext.literal_name(item.type_name)}"
            elif isinstance(item, ToOneItem):
                value = self.to_one(item, alias)
            else:
                value = self.nested(item, alias)
            pairs.append(f"{sqltext.literal_name(item.key)}, {value}")
        return f"json_build_object({', '.join(pairs)})"

    def to_one(self, item: ToOneItem, parent: str) -> str:
        row = ROW_TYPES[item.relation.target]
        alias = self.alias("o")
        return (
            f"(SELECT {self.object_json(item.target, alias)} FROM {row.table} AS {alias}"
            f" WHERE {alias}.{row.org_column} = {self.org}"
            f" AND {alias}.{item.relation.remote_column} = {parent}.{item.relation.local_column})"
        )

    def nested(self, item: ConnectionItem, parent: str) -> str:
        relation = item.relation
        row = ROW_TYPES[relation.target]
        return self.connection(
            item.connection,
            row,
            relation.order,
            lambda t: [f"{t}.{relation.remote_column} = {parent}.{relation.local_column}"],
            (),
        )

    # --- connections ---------------------------------------------------------------------------

    def connection(
        self,
        plan: ConnectionPlan,
        row: RowType,
        order: tuple[SortKey, ...],
        where: Callable[[str], list[str]],
        filters: tuple[Filter, ...],
    ) -> str:
        site = plan.site.index
        bound = self.bound[site]
        t, b, n = self.alias("t"), self.alias("b"), self.alias("n")
        first = self.param(site, "size", "integer")
        columns = _needed_columns(plan, order)
        conditions = [f"{t}.{row.org_column} = {self.org}"]
        conditions += where(t)
        by_name = {f.attribute: f for f in filters}
        for attribute, given in bound.filters:
            flt = by_name[attribute]
            if flt.sql_type is None:
                predicate = flt.predicate if given else (flt.otherwise or "false")
                conditions.append(predicate.format(t=t))
            else:
                p = self.param(site, f"f:{attribute}", flt.sql_type)
                conditions.append(flt.predicate.format(t=t, p=p))
        if bound.after:
            conditions.append(self.seek(site, order, t, "after"))
        if bound.before:
            conditions.append(self.seek(site, reversed_keys(order), t, "before"))
        # A backward page (`last`) is fetched from its far end, ranked in that order, and its
        # edges aggregated back into the connection's order (pagination.to_page).
        fetch = reversed_keys(order) if bound.backward else order
        inner = (
            f"SELECT {', '.join(f'{t}.{c}' for c in columns)} FROM {row.table} AS {t}"
            f" WHERE {' AND '.join(conditions)}"
            f" ORDER BY {_order(fetch, t)} LIMIT {first} + 1"
        )
        total = ", count(*) OVER () AS __total" if plan.wants_cursor_bounds else ""
        ranked = (
            f"SELECT {b}.*, row_number() OVER (ORDER BY {_order(fetch, b)}) AS __rn{total}"
            f" FROM ({inner}) AS {b}"
        )
        pairs = [
            f"{sqltext.literal_name(i.key)}, "
            f"{self.connection_field(i, plan, order, n, first, bound.backward)}"
            for i in plan.items
        ]
        # GROUP BY (): one row even when nothing selected is an aggregate (only __typename).
        return f"(SELECT json_build_object({', '.join(pairs)}) FROM ({ranked}) AS {n} GROUP BY ())"

    def connection_field(
        self,
        item: EdgesItem | NodeItem | PageInfoItem | TypenameItem,
        plan: ConnectionPlan,
        order: tuple[SortKey, ...],
        n: str,
        first: str,
        backward: bool,
    ) -> str:
        in_page = f"FILTER (WHERE {n}.__rn <= {first})"
        in_order = f"ORDER BY {n}.__rn{' DESC' if backward else ''}"
        if isinstance(item, TypenameItem):
            return f"text {sqltext.literal_name(item.type_name)}"
        if isinstance(item, NodeItem):
            value = self.object_json(item.target, n)
            return f"coalesce(json_agg({value} {in_order}) {in_page}, '[]'::json)"
        if isinstance(item, EdgesItem):
            pairs = []
            for edge in item.items:
                if isinstance(edge, NodeItem):
                    value = self.object_json(edge.target, n)
                elif isinstance(edge, CursorItem):
                    value = sqltext.cursor(order, n)
                else:
                    value = f"text {sqltext.literal_name(edge.type_name)}"
                pairs.append(f"{sqltext.literal_name(edge.key)}, {value}")
            edge_sql = f"json_build_object({', '.join(pairs)})"
            return f"coalesce(json_agg({edge_sql} {in_order}) {in_page}, '[]'::json)"
        # Ranks run from the fetch's start: forward, rank 1 starts the page and the look-ahead
        # row tells the far side (hasNextPage); backward, both are the other way round.
        nearest = (
            f"min({sqltext.cursor(order, n)}) FILTER (WHERE {n}.__rn = 1 AND {n}.__rn <= {first})"
        )
        farthest = (
            f"min({sqltext.cursor(order, n)}) FILTER (WHERE {n}.__rn = least({first}, {n}.__total))"
        )
        far_side = f"(count(*) > {first})"
        near_side = self.param(plan.site.index, "near", "boolean")
        pairs = []
        for key, name in item.items:
            if name == "hasNextPage":
                value = near_side if backward else far_side
            elif name == "hasPreviousPage":
                value = far_side if backward else near_side
            elif name == "startCursor":
                value = farthest if backward else nearest
            elif name == "endCursor":
                value = nearest if backward else farthest
            else:
                value = f"text {sqltext.literal_name(item.type_name)}"
            pairs.append(f"{sqltext.literal_name(key)}, {value}")
        return f"json_build_object({', '.join(pairs)})"

    def seek(self, site: int, order: tuple[SortKey, ...], t: str, bound: str) -> str:
        """pagination.seek_condition over NOT NULL keys (rows after the `bound` cursor's in
        `order`): a row comparison when every key runs the same way, the expanded form when
        directions mix."""
        params = [
            self.param(site, f"{bound}{i}", sqltext.sql_type(key)) for i, key in enumerate(order)
        ]
        columns = [f"{t}.{sqltext.column_of(key)}" for key in order]
        if len({key.descending for key in order}) == 1:
            op = "<" if order[0].descending else ">"
            return f"({', '.join(columns)}) {op} ({', '.join(params)})"
        clauses = []
        for i, key in enumerate(order):
            equal = [f"{columns[j]} = {params[j]}" for j in range(i)]
            step = f"{columns[i]} {'<' if key.descending else '>'} {params[i]}"
            clauses.append("(" + " AND ".join([*equal, step]) + ")")
        return "(" + " OR ".join(clauses) + ")"

    # --- roots -------------------------------------------------------------------------------

    def root(self, plan: RootPlan) -> str:
        if isinstance(plan, RootConnectionPlan):
            declaration = plan.declaration
            return self.connection(
                plan.connection,
                ROW_TYPES[declaration.target],
                declaration.order,
                lambda t: [],
                declaration.filters,
            )
        assert isinstance(plan, RootObjectPlan)
        bound = self.bound[plan.site.index]
        if bound.variant is None:
            return "NULL::json"
        row = ROW_TYPES[bound.variant]
        alias = self.alias("r")
        object_sql = self.object_json(plan.variants[bound.variant], alias)
        return (
            f"(SELECT {object_sql} FROM {row.table} AS {alias}"
            f" WHERE {alias}.{row.org_column} = {self.org}"
            f" AND {alias}.id = {self.param(plan.site.index, 'id', 'uuid')})"
        )


def _order(order: tuple[SortKey, ...], alias: str) -> str:
    # NOT NULL keys (sort_columns): NULLS LAST would change nothing but hide the index order.
    return ", ".join(
        f"{alias}.{sqltext.column_of(k)}{' DESC' if k.descending else ''}" for k in order
    )


def _needed_columns(plan: ConnectionPlan, order: tuple[SortKey, ...]) -> list[str]:
    columns: list[str] = []

    def add(name: str) -> None:
        if name not in columns:
            columns.append(name)

    for key in order:
        add(sqltext.column_of(key))
    for node in plan.node_plans():
        for item in node.items:
            if isinstance(item, ScalarItem):
                for name in item.column.columns:
                    add(name)
            elif isinstance(item, ToOneItem | ConnectionItem):
                add(item.relation.local_column)
    return columns


def compile_statement(
    roots: list[tuple[str, RootPlan]], bound: Mapping[int, BoundSite]
) -> Statement:
    compiler = Compiler(bound)
    compiler.param(GLOBAL_SITE, "org", "uuid")
    columns = [f"CAST({compiler.root(plan)} AS text) AS r{i}" for i, (_, plan) in enumerate(roots)]
    names = [f"p{i + 1}" for i in range(len(compiler.slots))]
    single = ", ".join(f"CAST(${i + 1} AS {t})" for i, t in enumerate(compiler.types))
    arrays = ", ".join(f"CAST(${i + 1} AS {t}[])" for i, t in enumerate(compiler.types))
    body = ", ".join(columns)
    return Statement(
        sql=f"SELECT {body} FROM (VALUES ({single})) AS v({', '.join(names)})",
        batch_sql=(
            f"SELECT v.ord, {body} FROM unnest({arrays}) WITH ORDINALITY"
            f" AS v({', '.join(names)}, ord) ORDER BY v.ord"
        ),
        slots=tuple(compiler.slots),
        types=tuple(compiler.types),
        keys=tuple(key for key, _ in roots),
    )
