"""The compiled path's fast lane (app.graphql.compiled.http): a document Strawberry has
admitted is answered without Strawberry when it compiles whole, and handed to Strawberry
otherwise, which answers exactly as the resolver path would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.graphql.compiled.extension import resolver_path_only
from app.graphql.view import GraphQLView
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, counting_statements, make_org
from tests.factories import make_student

CLASS = "7Q"


@pytest.fixture(scope="module")
async def school(db: Any) -> Org:
    org = await make_org(db)
    for name in ("Ada", "Ben", "Cy"):
        await make_student(db, org, name=name, class_code=CLASS)
    return org


class StrawberryRuns:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def strawberry_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[StrawberryRuns]:
    runs = StrawberryRuns()
    original = GraphQLView.run

    async def counted(self: GraphQLView, *args: Any, **kwargs: Any) -> Any:
        runs.count += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(GraphQLView, "run", counted)
    yield runs


def fresh(query: str) -> str:
    """A document text no other test has sent (admission is per text)."""
    return f"# {uuid.uuid4()}\n{query}"


CLASS_VIEW = """query($cls: String!) { students(first: 30, filter: {classCode: $cls}) {
  edges { node { id name incidents(first: 10) { edges { node { id kind } } } } } } }"""


async def post(
    gql: GraphQLClient, query: str, variables: dict[str, Any], token: str, **headers: str
) -> httpx.Response:
    return await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", **headers},
    )


async def resolved(
    gql: GraphQLClient, query: str, variables: dict[str, Any], token: str
) -> httpx.Response:
    with resolver_path_only():
        return await post(gql, query, variables, token)


async def test_an_admitted_document_is_answered_without_strawberry(
    school: Org, app: Any, gql: GraphQLClient, strawberry_runs: StrawberryRuns
) -> None:
    query, token = fresh(CLASS_VIEW), school.token()
    first = await post(gql, query, {"cls": CLASS}, token)
    assert strawberry_runs.count == 1
    with counting_statements(app.state.services.db) as counter:
        second = await post(gql, query, {"cls": CLASS}, token)
    assert strawberry_runs.count == 1  # the fast lane answered
    assert second.status_code == 200 and second.content == first.content
    assert [e["node"]["name"] for e in second.json()["data"]["students"]["edges"]] == [
        "Ada",
        "Ben",
        "Cy",
    ]
    assert len(counter.data_statements) == 1 and len(counter.statements) == 2
    # Other variables, the same plan: still no Strawberry.
    other = await post(gql, query, {"cls": "none"}, token)
    assert strawberry_runs.count == 1
    assert other.json() == {"data": {"students": {"edges": []}}}
    # The media type follows Accept as Strawberry's does.
    typed = await post(
        gql, query, {"cls": CLASS}, token, accept="application/graphql-response+json"
    )
    assert strawberry_runs.count == 1
    assert typed.headers["content-type"] == "application/graphql-response+json"
    assert typed.headers["cache-control"] == "no-store"
    assert typed.content == first.content


DEEP = """query($n: Int) { students(first: $n) { edges { node { incidents(first: $n) {
  edges { node { student { incidents(first: $n) { nodes { id } } } } } } } } } }"""


@pytest.mark.parametrize(
    ("name", "query", "good", "bad", "role"),
    [
        ("a variable of the wrong type", CLASS_VIEW, {"cls": CLASS}, {"cls": 5}, Role.ADMIN),
        ("a missing variable", CLASS_VIEW, {"cls": CLASS}, {}, Role.ADMIN),
        (
            "a page over the limit",
            "query($n: Int) { students(first: $n) { nodes { name } } }",
            {"n": 2},
            {"n": 1000},
            Role.ADMIN,
        ),
        ("an operation over the cost limit", DEEP, {"n": 5}, {"n": 100}, Role.ADMIN),
        (
            "a field the role may not read",
            "query($cls: String) { students(filter: {classCode: $cls}) { nodes { supportLevel } } }",
            {"cls": CLASS},
            {"cls": CLASS},
            Role.AIDE,
        ),
    ],
)
async def test_what_the_fast_lane_does_not_take_strawberry_answers(
    name: str,
    query: str,
    good: dict[str, Any],
    bad: dict[str, Any],
    role: Role,
    school: Org,
    gql: GraphQLClient,
    strawberry_runs: StrawberryRuns,
) -> None:
    query = fresh(query)
    admitted = await post(gql, query, good, school.token())
    assert admitted.status_code == 200 and "errors" not in admitted.json(), admitted.text
    runs = strawberry_runs.count
    answer = await post(gql, query, bad, school.token(role))
    assert strawberry_runs.count == runs + 1, name
    expected = await resolved(gql, query, bad, school.token(role))
    assert answer.status_code == expected.status_code
    assert answer.json() == expected.json()
    assert answer.json().get("errors"), name


async def test_the_fast_lane_checks_the_caller_first(
    school: Org, gql: GraphQLClient, strawberry_runs: StrawberryRuns
) -> None:
    query = fresh(CLASS_VIEW)
    await post(gql, query, {"cls": CLASS}, school.token())
    refused = await post(gql, query, {"cls": CLASS}, "not-a-token")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert strawberry_runs.count == 1


async def test_the_fast_lane_keeps_to_the_callers_org(
    school: Org, db: Any, gql: GraphQLClient
) -> None:
    other = await make_org(db)
    await make_student(db, other, name="Zed", class_code=CLASS)
    query = fresh(CLASS_VIEW)
    await post(gql, query, {"cls": CLASS}, school.token())
    mine = await post(gql, query, {"cls": CLASS}, school.token())
    theirs = await post(gql, query, {"cls": CLASS}, other.token())
    assert [e["node"]["name"] for e in theirs.json()["data"]["students"]["edges"]] == ["Zed"]
    assert "Zed" not in mine.text


async def test_a_failing_read_on_the_fast_lane_is_strawberrys_to_answer(
    school: Org,
    app: Any,
    gql: GraphQLClient,
    strawberry_runs: StrawberryRuns,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database failing under the fast lane (a timeout, a lost connection) is answered
    by Strawberry, which runs the read again: once recovered, the right answer; still
    failing, its masked, logged internal error — never an error of the fast lane's own."""
    db = app.state.services.db
    query, token = fresh(CLASS_VIEW), school.token()
    good = await post(gql, query, {"cls": CLASS}, token)
    original = db.read
    failures = {"left": 1}

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise asyncpg.QueryCanceledError("canceling statement due to statement timeout")
        return await original(*args, **kwargs)

    monkeypatch.setattr(db, "read", flaky)
    runs = strawberry_runs.count
    recovered = await post(gql, query, {"cls": CLASS}, token)
    assert strawberry_runs.count == runs + 1
    assert recovered.status_code == 200 and recovered.content == good.content

    failures["left"] = 2  # the fast lane's read and Strawberry's
    failed = await post(gql, query, {"cls": CLASS}, token)
    assert failed.status_code == 200
    (error,) = failed.json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and error["extensions"]["errorId"]
    assert "statement timeout" not in failed.text
