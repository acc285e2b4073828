"""Cursors decode strictly: every crafted `after` or `before`, on every connection, is a user
error naming that argument with INVALID_CURSOR — never a value sent to SQL, never an internal
error."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from app.core.errors import ServiceError
from app.core.pagination import MAX_CURSOR_LENGTH, SortKey, decode_cursor, encode_cursor
from app.graphql.compiled.extension import resolver_path_only
from app.incidents.models import Incident
from app.incidents.service import NEWEST_FIRST
from app.students.service import NAME_ORDER
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert

UUID = {"u": str(uuid.uuid4())}
# `after` arguments may carry an input contract (app.core.contracts.Cursor) refusing longer
# text as TOO_LONG before the cursor is read.
CURSOR_CONTRACT_LENGTH = 512
INSTANT = {"dt": "2025-01-01T08:00:00+00:00"}


def cursor_of(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def parts_cursor(parts: list[Any]) -> str:
    return cursor_of(json.dumps(parts))


# Each connection: its query, and a well-formed cursor's parts with the kind of each part.
CONNECTIONS: dict[str, tuple[str, list[tuple[str, Any]]]] = {
    "students": (
        "query($a: String) { students(first: 2, after: $a) { edges { cursor } } }",
        [("text", "Ann"), ("uuid", UUID)],
    ),
    "atRiskStudents": (
        "query($a: String) { atRiskStudents(minTier: 1, first: 2, after: $a) { edges { cursor } } }",
        [("smallint", 2), ("text", "Ann"), ("uuid", UUID)],
    ),
    "incidents": (
        "query($a: String) { incidents(first: 2, after: $a) { edges { cursor } } }",
        [("timestamp", INSTANT), ("uuid", UUID)],
    ),
    "auditLog": (
        "query($a: String) { auditLog(first: 2, after: $a) { edges { cursor } } }",
        [("bigint", 5)],
    ),
    "Student.incidents": (
        "query($s: ID!, $a: String) { student(id: $s) { incidents(first: 2, after: $a) "
        "{ edges { cursor } } } }",
        [("timestamp", INSTANT), ("uuid", UUID)],
    ),
}

# Raw JSON for a part of each kind that its column cannot take (text, so NaN and numbers
# past any int64 are sent as written).
WRONG_PARTS: dict[str, list[str]] = {
    "timestamp": [
        "5",
        '"2025-01-01T08:00:00+00:00"',  # a string where the tagged timestamp goes
        '{"dt": 5}',
        '{"dt": "yesterday"}',
        '{"dt": "2025-01-01T08:00:00"}',  # no time zone
        '{"dt": "0001-01-01T00:00:00+14:00"}',  # before year 1 in UTC
        '{"dt": "9999-12-31T23:59:59-14:00"}',  # after year 9999 in UTC
        '{"dt": "2025-01-01T08:00:00+00:00", "x": 1}',
        '{"d": "2025-01-01"}',
        f'{{"u": "{uuid.uuid4()}"}}',
        '["2025-01-01T08:00:00+00:00"]',
        "null",
    ],
    "uuid": [
        f'"{uuid.uuid4()}"',  # untagged
        '{"u": "not-a-uuid"}',
        '{"u": 5}',
        f'{{"u": "{"a" * 100}"}}',
        '{"dt": "2025-01-01T08:00:00+00:00"}',
        '{"zz": "x"}',
        "[]",
        "null",
        "true",
    ],
    "text": [
        '["Ann"]',  # a list for a name
        "5",
        f'{{"u": "{uuid.uuid4()}"}}',
        json.dumps("x" * 201),  # longer than the column
        '"a\\u0000b"',  # Postgres text cannot hold NUL
        '"\\ud800"',  # a lone surrogate is no UTF-8
        "null",
        "true",
        '{"a": "b"}',
    ],
    "smallint": ["40000", "-40000", "1.5", "true", '"2"', str(2**63), "NaN", "null"],
    "bigint": [
        str(2**63),  # past int64
        str(-(2**63) - 1),
        "1" * 5000,  # more digits than Python parses
        "1e30",
        "1.0",
        "Infinity",
        '"5"',
        "true",
        "null",
        "[5]",
    ],
}

# Not cursors at all, for any connection.
GARBAGE = [
    "not-a-cursor",
    "!!!!",
    "a+b/c==",
    "A",  # a length base64 cannot have
    cursor_of("hello"),
    cursor_of("{}"),
    cursor_of('{"0": 1}'),
    cursor_of("5"),
    cursor_of("null"),
    cursor_of(b"\xff\xfe\x00["),  # not UTF-8
    cursor_of("[" * 1500 + "]" * 1500),  # nested deeper than the parser recurses
    cursor_of("[]"),
]


def crafted(parts: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(what, cursor) for every wrong part in every position, wrong sizes, and garbage."""
    raw = [json.dumps(value) for _, value in parts]
    cases = [(f"garbage {g!r}", g) for g in GARBAGE]
    cases.append(("one part too many", cursor_of("[" + ",".join([*raw, "1"]) + "]")))
    if len(raw) > 1:
        cases.append(("one part too few", cursor_of("[" + ",".join(raw[:-1]) + "]")))
    for i, (kind, _) in enumerate(parts):
        for wrong in WRONG_PARTS[kind]:
            text = "[" + ",".join([*raw[:i], wrong, *raw[i + 1 :]]) + "]"
            cases.append((f"part {i} ({kind}) = {wrong[:40]}", cursor_of(text)))
    return cases


@pytest.mark.parametrize("bound", ["after", "before"])
@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_crafted_cursors_are_invalid_cursor_errors(
    gql: GraphQLClient, org: Org, connection: str, bound: str
) -> None:
    query, parts = CONNECTIONS[connection]
    if bound == "before":  # the same cursor, as the bound of a backward page
        query = query.replace("first: 2, after: $a", "last: 2, before: $a")
        assert "before: $a" in query
    student = await upsert(gql, org, "CUR1")
    await gql(
        LOG,
        {"input": {"studentId": student, "kind": "NEGATIVE", "category": "x"}},
        token=org.token(),
    )

    async def answer(after: str) -> dict[str, Any]:
        return await gql(query, {"s": student, "a": after}, token=org.token())

    well_formed = await answer(parts_cursor([value for _, value in parts]))
    assert "errors" not in well_formed, well_formed
    for what, after in crafted(parts):
        body = await answer(after)
        assert body.get("errors"), (connection, what, body)
        (error,) = body["errors"]
        assert error["extensions"]["field"] == bound, (connection, what, error)
        if len(after) > CURSOR_CONTRACT_LENGTH and error["extensions"]["code"] == "TOO_LONG":
            continue  # the argument's input contract refused it first, as well
        assert error["extensions"] == {"field": bound, "code": "INVALID_CURSOR"}, (
            connection,
            what,
            error,
        )
        assert error["message"] == f"{bound} is not a cursor of this list", (connection, what)


async def test_a_cursor_of_another_list_is_invalid(gql: GraphQLClient, org: Org) -> None:
    await upsert(gql, org, "CUR2")
    students = await gql(
        CONNECTIONS["students"][0], {"a": None}, token=org.token()
    )  # (name, id) cursors
    after = students["data"]["students"]["edges"][0]["cursor"]
    for connection in ("incidents", "auditLog", "atRiskStudents"):
        body = await gql(CONNECTIONS[connection][0], {"a": after}, token=org.token())
        assert body["errors"][0]["extensions"] == {"field": "after", "code": "INVALID_CURSOR"}


async def paginate_names(gql: GraphQLClient, org: Org, names: list[str]) -> list[str]:
    for i, name in enumerate(names):
        await upsert(gql, org, f"CUR-N{i}", name=name)
    query = """query($a: String) { students(first: 1, after: $a) {
        edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        body = await gql(query, {"a": after}, token=org.token())
        assert "errors" not in body, body
        page = body["data"]["students"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
        assert len(after) <= MAX_CURSOR_LENGTH


async def test_cursors_round_trip_any_name(gql: GraphQLClient, org: Org) -> None:
    names = ["Zoë Ærøskøbing", 'Quote "Q" \\ Back', "李小龙", "😀 Emoji", "a" * 200]
    assert sorted(await paginate_names(gql, org, names)) == sorted(names)  # each once


async def test_cursors_of_the_longest_names_are_accepted(gql: GraphQLClient, org: Org) -> None:
    names = ["é" * 200, "李" * 200]
    assert sorted(await paginate_names(gql, org, names)) == sorted(names)


def test_cursors_decode_to_their_parts() -> None:
    student_id = uuid.uuid4()
    for name in ("Zoë", "李" * 200, "😀" * 200):
        cursor = encode_cursor([name, student_id])
        assert len(cursor) <= MAX_CURSOR_LENGTH
        assert decode_cursor(cursor, NAME_ORDER) == [name, student_id]


def test_too_long_cursors_are_refused_unread() -> None:
    with pytest.raises(ServiceError) as refused:
        decode_cursor("A" * (MAX_CURSOR_LENGTH + 4), NEWEST_FIRST)
    assert [(e.field, e.code.value) for e in refused.value.errors] == [("after", "INVALID_CURSOR")]


def test_a_sort_key_must_be_a_column_a_cursor_can_carry() -> None:
    with pytest.raises(TypeError):
        SortKey(Incident.kind)  # an enum


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_backward_pages_are_the_forward_list_from_its_end(
    gql: GraphQLClient, org: Org, connection: str
) -> None:
    """Walking a list backward with last/before gives the forward list, on every
    connection (both read paths: the compiled one's own differential tests compare them)."""
    student = await upsert(gql, org, "BACK1")
    await upsert(gql, org, "BACK2")
    for category in ("a", "b", "c"):
        await gql(
            LOG,
            {"input": {"studentId": student, "kind": "NEGATIVE", "category": category}},
            token=org.token(),
        )
    query, _ = CONNECTIONS[connection]
    forward_query = query.replace("first: 2, after: $a", "first: 100, after: $a")
    backward_query = query.replace("first: 2, after: $a", "last: 1, before: $a").replace(
        "edges { cursor }", "edges { cursor } pageInfo { hasPreviousPage startCursor }"
    )
    forward = await gql(forward_query, {"s": student, "a": None}, token=org.token())
    root = next(iter(forward["data"].values()))
    expected = [e["cursor"] for e in (root.get("incidents") or root)["edges"]]
    assert len(expected) >= 2, forward
    seen: list[str] = []
    before = None
    while True:
        body = await gql(backward_query, {"s": student, "a": before}, token=org.token())
        root = next(iter(body["data"].values()))
        page = root.get("incidents") or root
        seen = [e["cursor"] for e in page["edges"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == expected


async def test_first_and_last_together_are_refused(gql: GraphQLClient, org: Org) -> None:
    body = await gql("{ incidents(first: 2, last: 2) { edges { cursor } } }", token=org.token())
    (error,) = body["errors"]
    assert error["extensions"] == {"field": "last", "code": "INVALID"}


async def test_a_lists_default_page_is_its_own(gql: GraphQLClient, org: Org) -> None:
    """Without first or last, a student's incidents come 10 to a page (the field's
    PAGE_DEFAULT) and the school's incidents 20, on the resolver and the compiled path."""
    student = await upsert(gql, org, "PAGE1")
    for i in range(22):
        await gql(
            LOG,
            {"input": {"studentId": student, "kind": "POSITIVE", "category": f"c{i}"}},
            token=org.token(),
        )
    query = """query($s: ID!) { student(id: $s) { incidents { nodes { id } } }
      incidents { nodes { id } } }"""
    for _ in range(2):  # the second answer comes from the compiled fast lane
        body = await gql(query, {"s": student}, token=org.token())
        assert len(body["data"]["student"]["incidents"]["nodes"]) == 10
        assert len(body["data"]["incidents"]["nodes"]) == 20
    with resolver_path_only():
        body = await gql(query, {"s": student}, token=org.token())
    assert len(body["data"]["student"]["incidents"]["nodes"]) == 10
    assert len(body["data"]["incidents"]["nodes"]) == 20
