"""search, similar, searchIndex and reindexSearch as integrators call them, and
`schoolgraph reindex`."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers, StatementCounter
from tests.core.test_cli import _cli
from tests.search import support as w
from tests.search.test_indexing import SEARCH


async def _school(db: Database, org: Org) -> w.Written:
    written = w.Written()
    ana = await w.student(db, org, written, "Ana Reyes", class_code="8B", year_group=8)
    tom = await w.student(db, org, written, "Tom Webb", class_code="7A", year_group=7)
    written.sources["ana-fight"] = (
        "INCIDENT_NOTE",
        await w.incident(
            db,
            org,
            ana,
            "Punched a boy in the lunch queue.",
            category="Physical aggression",
            days_ago=10,
        ),
    )
    written.sources["tom-fight"] = (
        "INCIDENT_NOTE",
        await w.incident(
            db,
            org,
            tom,
            "Kicked another pupil during football.",
            category="Physical aggression",
            days_ago=1,
        ),
    )
    written.sources["tom-kind"] = (
        "INCIDENT_NOTE",
        await w.incident(
            db,
            org,
            tom,
            "Helped a new student find the library.",
            category="Kindness",
            kind=w.IncidentKind.POSITIVE,
            days_ago=1,
        ),
    )
    written.sources["ana-import"] = (
        "IMPORTED_COMMENT",
        await w.incident(
            db,
            org,
            ana,
            "Pushed a classmate over in the playground.",
            category="Physical aggression",
            source="import",
            days_ago=3,
        ),
    )
    await w.support_notes(db, org, ana, "Struggles with anger when she feels shown up.")
    await w.index(db, org)
    return written


def _ids(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [h["source"]["id"] for h in body["data"]["search"]]


async def test_filters_narrow_inside_the_search(gql: GraphQLClient, db: Database, org: Org) -> None:
    written = await _school(db, org)
    token = org.token(Role.TEACHER)
    gid = {k: to_global_id("Incident", v) for k, (_, v) in written.sources.items()}
    ana = to_global_id("Student", written.students["Ana Reyes"])

    def ask(**f: Any) -> dict[str, Any]:
        return {"q": "hurting other children", "f": f}

    by_student = _ids(await gql(SEARCH, ask(studentId=ana), token=token))
    assert set(by_student) == {gid["ana-fight"], gid["ana-import"], ana}
    by_class = _ids(await gql(SEARCH, ask(classCode="7A"), token=token))
    assert set(by_class) == {gid["tom-fight"], gid["tom-kind"]}
    by_year = _ids(await gql(SEARCH, ask(yearGroup=8), token=token))
    assert set(by_year) == set(by_student)
    imported = _ids(await gql(SEARCH, ask(sourceTypes=["IMPORTED_COMMENT"]), token=token))
    assert imported == [gid["ana-import"]]
    week = (date.today() - timedelta(days=5)).isoformat()
    recent = _ids(
        await gql(SEARCH, ask(sourceTypes=["INCIDENT_NOTE"], **{"from": week}), token=token)
    )
    assert set(recent) == {gid["tom-fight"], gid["tom-kind"]}
    older = _ids(await gql(SEARCH, ask(sourceTypes=["INCIDENT_NOTE"], to=week), token=token))
    assert older == [gid["ana-fight"]]
    # The violent notes come before the kind one.
    ranked = _ids(await gql(SEARCH, ask(classCode="7A"), token=token))
    assert ranked[0] == gid["tom-fight"]


async def test_bad_input_names_the_argument(gql: GraphQLClient, org: Org) -> None:
    token = org.token(Role.TEACHER)
    blank = await gql(SEARCH, {"q": "   "}, token=token)
    assert blank["errors"][0]["extensions"]["field"] == "query"
    too_many = await gql(SEARCH, {"q": "x", "n": 51}, token=token)
    assert "first" in too_many["errors"][0]["message"]
    bad_id = await gql(SEARCH, {"q": "x", "f": {"studentId": "nope"}}, token=token)
    assert "studentId" in str(bad_id["errors"][0])


async def test_search_and_similar_take_a_fixed_number_of_statements(
    gql: GraphQLClient, db: Database, org: Org, count_statements: StatementCounter
) -> None:
    written = await _school(db, org)
    token = org.token(Role.TEACHER)
    query = """query($q: String!) { search(query: $q, first: 10) {
        score student { name } source { ... on Incident { id similar(first: 2) { score
        source { ... on Incident { id } } student { name } } } } } }"""
    count_statements.statements.clear()
    body = await gql(query, {"q": "fighting"}, token=token)
    assert "errors" not in body, body
    hits = body["data"]["search"]
    assert len(hits) == 5
    # search (scope, settings, statement), students, incidents, similar (scope, settings,
    # statement), their incidents, their students: however many hits.
    assert len(count_statements.data_statements) <= 10, count_statements.data_statements
    fight = next(
        h
        for h in hits
        if h["source"].get("id") == to_global_id("Incident", written.sources["tom-fight"][1])
    )
    similar = fight["source"]["similar"]
    assert similar[0]["source"]["id"] in {
        to_global_id("Incident", written.sources[k][1]) for k in ("ana-fight", "ana-import")
    }


async def test_a_students_similar_incidents_are_other_students(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    written = await _school(db, org)
    tom = to_global_id("Student", written.students["Tom Webb"])
    body = await gql(
        "query($s: ID!) { node(id: $s) { ... on Student { similarIncidents(first: 3) "
        "{ score student { name } } } } }",
        {"s": tom},
        token=org.token(Role.AIDE),
    )
    assert "errors" not in body, body
    hits = body["data"]["node"]["similarIncidents"]
    assert hits and all(h["student"]["name"] == "Ana Reyes" for h in hits)
    assert hits == sorted(hits, key=lambda h: -h["score"])


async def test_reindex_from_graphql_and_the_cli_with_progress(
    gql: GraphQLClient, db: Database, org: Org, servers: Servers
) -> None:
    await _school(db, org)
    status = "{ searchIndex { model dimension sources indexed pending reindexRequestedAt } }"
    before = (await gql(status, token=org.token(Role.ADMIN)))["data"]["searchIndex"]
    assert (before["sources"], before["indexed"], before["pending"]) == (5, 5, 0)
    assert before["model"].startswith("wordllama") and before["dimension"] == 256
    asked = await gql(
        "mutation { reindexSearch { status { pending reindexRequestedAt } errors { code } } }",
        token=org.token(Role.ADMIN),
    )
    payload = asked["data"]["reindexSearch"]
    assert payload["errors"] == [] and payload["status"]["pending"] == 5
    assert payload["status"]["reindexRequestedAt"] is not None
    denied = await gql(
        "mutation { reindexSearch { errors { code } } }", token=org.token(Role.TEACHER)
    )
    assert denied["data"] is None and "ADMIN" in denied["errors"][0]["message"]

    result = await asyncio.to_thread(_cli, servers, "reindex", "--org", org.slug)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{org.slug}: 5 documents indexed, 0 removed"
    after = (await gql(status, token=org.token(Role.ADMIN)))["data"]["searchIndex"]
    assert (after["indexed"], after["pending"]) == (5, 0)
    missing = await asyncio.to_thread(_cli, servers, "reindex", "--org", "nope-x")
    assert missing.returncode == 1 and "no organisation 'nope-x'" in missing.stderr
