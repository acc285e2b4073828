"""Property: for generated selection sets over Student and Incident (fields, aliases, inline
and named fragments, __typename, nested connections and the to-one student, page sizes, every
role), the compiled path gives the resolver path's data; and every root field compiles unless it
selects a field the role may not read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.orgs.models import Role
from tests.conftest import GraphQLClient
from tests.graphql.test_compiled_differential import (
    Case,
    Dataset,
    check_compiled,
    compiled_answer,
    dataset,
    resolver_answer,
)

__all__ = ["dataset"]  # the module-scoped fixture, shared with the differential tests

STUDENT_SCALARS = [
    "id",
    "externalId",
    "name",
    "classCode",
    "yearGroup",
    "campus",
    "housePoints",
    "riskTier",
    "createdAt",
    "supportLevel",
    "supportNotes",
]
INCIDENT_SCALARS = [
    "id",
    "kind",
    "category",
    "points",
    "note",
    "classCode",
    "occurredAt",
    "source",
    "clientId",
    "strikeLevel",
    "adminNotified",
    "voided",
    "voidedAt",
    "voidReason",
    "createdAt",
]
PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
names = st.sampled_from(["a", "b", "c", "x1", "y_2"])


@dataclass
class Doc:
    fragments: dict[str, str]

    def fragment(self, on: str, body: str) -> str:
        name = f"F{len(self.fragments)}"
        self.fragments[name] = f"fragment {name} on {on} {{ {body} }}"
        return f"...{name}"


@st.composite
def field_list(draw: st.DrawFn, scalars: list[str]) -> list[str]:
    chosen = draw(st.lists(st.sampled_from([*scalars, "__typename"]), min_size=1, max_size=5))
    out = []
    for name in chosen:
        alias = draw(st.one_of(st.none(), names))
        out.append(f"{alias}_{name}: {name}" if alias else name)  # aliases never clash
    return out


@st.composite
def wrapped(draw: st.DrawFn, doc: Doc, on: str, parts: list[str]) -> str:
    """The parts as they are, in an inline fragment, or in a named fragment."""
    how = draw(st.sampled_from(["plain", "inline", "named"]))
    body = " ".join(parts)
    if how == "inline":
        return f"... on {on} {{ {body} }}"
    if how == "named":
        return doc.fragment(on, body)
    return body


def page_size(most: int) -> st.SearchStrategy[str]:
    """A page from either end: `first: n` or `last: n`."""
    return st.builds(
        lambda name, n: f"{name}: {n}", st.sampled_from(["first", "last"]), st.integers(0, most)
    )


@st.composite
def student_selection(draw: st.DrawFn, doc: Doc, depth: int) -> str:
    parts = draw(field_list(STUDENT_SCALARS))
    if depth > 0 and draw(st.booleans()):
        page = draw(page_size(3))
        parts.append(
            f"incidents({page}) {{ {draw(connection_selection(doc, 'Incident', depth - 1))} }}"
        )
    return draw(wrapped(doc, "Student", parts))


@st.composite
def incident_selection(draw: st.DrawFn, doc: Doc, depth: int) -> str:
    parts = draw(field_list(INCIDENT_SCALARS))
    if depth > 0 and draw(st.booleans()):
        parts.append(f"student {{ {draw(student_selection(doc, depth - 1))} }}")
    return draw(wrapped(doc, "Incident", parts))


@st.composite
def connection_selection(draw: st.DrawFn, doc: Doc, node: str, depth: int) -> str:
    selection = student_selection if node == "Student" else incident_selection
    parts = []
    for what in draw(
        st.lists(
            st.sampled_from(["edges", "nodes", "pageInfo", "__typename"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        if what == "edges":
            edge = [f"node {{ {draw(selection(doc, depth))} }}"]
            if draw(st.booleans()):
                edge.append("cursor")
            if draw(st.booleans()):
                edge.append("__typename")
            parts.append(f"edges {{ {' '.join(draw(st.permutations(edge)))} }}")
        elif what == "nodes":
            parts.append(f"nodes {{ {draw(selection(doc, depth))} }}")
        elif what == "pageInfo":
            chosen = draw(st.lists(st.sampled_from(PAGE_INFO), min_size=1, max_size=4, unique=True))
            parts.append(f"pageInfo {{ {' '.join(chosen)} }}")
        else:
            parts.append("__typename")
    return " ".join(parts)


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any], Role, str]:
    doc = Doc({})
    root = draw(st.sampled_from(["students", "incidents", "student", "node"]))
    page = draw(page_size(4))
    label = draw(st.sampled_from(["ava", "jose", "zoe", "obrien", "ben"]))
    if root == "students":
        body = f"students({page}, filter: {{classCode: $cls}}) {{ {draw(connection_selection(doc, 'Student', 2))} }}"
    elif root == "incidents":
        body = f"incidents({page}) {{ {draw(connection_selection(doc, 'Incident', 2))} }}"
    elif root == "student":
        body = f"student(id: $id) {{ {draw(student_selection(doc, 2))} }}"
    else:
        body = f"node(id: $id) {{ id ... on Student {{ {draw(student_selection(doc, 1))} }} ... on Incident {{ {draw(incident_selection(doc, 1))} }} }}"
    variables_used = {
        "students": "$cls: String!",
        "incidents": "",
        "student": "$id: ID!",
        "node": "$id: ID!",
    }[root]
    header = f"query({variables_used})" if variables_used else "query"
    query = f"{header} {{ {body} }} " + " ".join(doc.fragments.values())
    node_kind = draw(st.sampled_from(["Student", "Incident"])) if root == "node" else "Student"
    role = draw(st.sampled_from(list(Role)))
    return query, {"root": root, "label": label, "node": node_kind}, role, root


def _variables(ds: Dataset, meta: dict[str, Any]) -> dict[str, Any]:
    if meta["root"] == "students":
        return {"cls": ds.cls}
    if meta["root"] == "incidents":
        return {}
    if meta["node"] == "Incident" and ds.incidents[meta["label"]]:
        return {"id": ds.iid(meta["label"], 0)}
    return {"id": ds.sid(meta["label"])}


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(op=operations())
async def test_generated_selections_answer_alike(
    op: tuple[str, dict[str, Any], Role, str], dataset: Dataset, app: Any, gql: GraphQLClient
) -> None:
    query, meta, role, _ = op
    variables = _variables(dataset, meta)
    case = Case("generated", query, lambda ds: variables, role=role)
    expected = await resolver_answer(gql, dataset, case)
    result = await compiled_answer(app, dataset, case)
    if role is Role.AIDE and "support" in query:
        # A field the role may not read: the root runs on the resolver path (which answers
        # null and an error for each row it reaches, or nothing when it reaches none).
        # (A node id naming the other type still compiles.)
        assert all("Not allowed" in e["message"] for e in expected.get("errors", [])), expected
        case.compiled = tuple(result.fields) if result is not None else ()
    else:
        assert "errors" not in expected, expected
    check_compiled(case, expected, result)
