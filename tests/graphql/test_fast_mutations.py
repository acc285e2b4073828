"""The mutation fast lane (app.graphql.fast_mutations) answers what Strawberry answers.

Each case runs a mutation document on two students in the same state: once through
Strawberry (the lane emptied first), once through the lane (Strawberry's execute made to
fail, so an answer proves the lane wrote it). The two bodies must be equal once the ids of
the rows each run made are set aside."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from app.graphql.fast_mutations import mutation_lane
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert

UPDATE = """mutation($input: UpdateIncidentInput!) { updateIncident(input: $input) {
  incident { id adminNotified hodConsulted } errors { field message code } } }"""
BATCH = """mutation Offline($items: [LogIncidentInput!]!) { logIncidents(input: {items: $items}) {
  results { index created errors { field code } incident { id strikeLevel kind } }
  errors { field message code } } }"""


def app_schema(app: Any) -> Any:
    """The schema the app's /graphql view serves."""
    route = next(r for r in app.routes if getattr(r, "path", None) == "/graphql")
    return route.endpoint.schema


@contextmanager
def strawberry_refused(schema: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside, Strawberry cannot execute anything: an answer comes from the lane."""

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Strawberry executed a request the lane should have answered")

    with monkeypatch.context() as patch:
        patch.setattr(type(schema), "execute", refuse)
        yield


NOBODY = to_global_id("Student", uuid.uuid4())
_ID = re.compile(r'"(?:id|errorId)":"[^"]*"')


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    import json

    def text(body: dict[str, Any]) -> str:
        return _ID.sub('"id":"…"', json.dumps(body, sort_keys=True, separators=(",", ":")))

    assert text(a) == text(b)


async def _both(
    gql: GraphQLClient,
    schema: Any,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
    variables_of: Any,
    token: str,
    first: str,
    second: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Strawberry's answer for `first`, the lane's for `second`)."""
    mutation_lane(schema).admitted.items.clear()
    by_strawberry = await gql(document, variables_of(first), token=token)
    with strawberry_refused(schema, monkeypatch):
        by_lane = await gql(document, variables_of(second), token=token)
    return by_strawberry, by_lane


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TEACHER, Role.AIDE])
async def test_log_incident_on_the_lane_answers_as_strawberry(
    app: Any, gql: GraphQLClient, org: Org, role: Role, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = app_schema(app)

    x, y = (
        await upsert(gql, org, "FL-X-" + role.value),
        await upsert(gql, org, "FL-Y-" + role.value),
    )

    def item(sid: str, **extra: Any) -> dict[str, Any]:
        return {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "late", **extra}}

    token = org.token(role)
    for _ in range(3):  # strikes 1, 2, 3 on both students: the rungs' flags included
        a, b = await _both(gql, schema, monkeypatch, LOG, item, token, x, y)
        assert a["data"]["logIncident"]["errors"] == []
        _same(a, b)
    # A refused input (the category contract) and a student that does not exist.
    a, b = await _both(
        gql, schema, monkeypatch, LOG, lambda s: item(s, category="c" * 101), token, x, y
    )
    assert a["data"]["logIncident"]["errors"][0]["field"] == "category"
    _same(a, b)
    a, b = await _both(gql, schema, monkeypatch, LOG, lambda s: item(NOBODY), token, x, y)
    assert a["data"]["logIncident"]["errors"][0]["code"] == "NOT_FOUND"
    _same(a, b)


async def test_a_clientid_resend_and_a_batch_on_the_lane(
    app: Any, gql: GraphQLClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = app_schema(app)

    x, y = await upsert(gql, org, "FL-BX"), await upsert(gql, org, "FL-BY")
    ids = {x: str(uuid.uuid4()), y: str(uuid.uuid4())}

    def resend(sid: str) -> dict[str, Any]:
        return {
            "input": {"studentId": sid, "kind": "POSITIVE", "category": "k", "clientId": ids[sid]}
        }

    for _ in range(2):  # created, then the resend
        a, b = await _both(gql, schema, monkeypatch, LOG, resend, org.token(), x, y)
        _same(a, b)

    def batch(sid: str) -> dict[str, Any]:
        return {
            "items": [
                {"studentId": sid, "kind": "NEGATIVE", "category": "a"},
                {"studentId": NOBODY, "kind": "NEGATIVE", "category": "b"},
            ]
        }

    a, b = await _both(gql, schema, monkeypatch, BATCH, batch, org.token(), x, y)
    assert a["data"]["logIncidents"]["results"][1]["errors"][0]["code"] == "NOT_FOUND"
    _same(a, b)


async def test_the_lane_is_per_role_and_refuses_what_strawberry_must_answer(
    app: Any, gql: GraphQLClient, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Admitted for a teacher, a document is not the lane's for an aide (whose permission
    error Strawberry writes), and bad variables are Strawberry's to answer."""
    schema = app_schema(app)

    sid = await upsert(gql, org, "FL-R")
    logged = await gql(
        LOG, {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "x"}}, token=org.token()
    )
    incident = logged["data"]["logIncident"]["incident"]["id"]
    update = {"input": {"id": incident, "hodConsulted": True}}
    mutation_lane(schema).admitted.items.clear()
    teacher = await gql(UPDATE, update, token=org.token(Role.TEACHER))
    assert teacher["data"]["updateIncident"]["errors"] == []
    assert mutation_lane(schema).admitted.items  # admitted for TEACHER
    aide = await gql(UPDATE, update, token=org.token(Role.AIDE))  # Strawberry: not refused
    assert aide["data"] is None and aide["errors"]
    bad = await gql(
        UPDATE, {"input": {"id": incident, "hodConsulted": "yes"}}, token=org.token(Role.TEACHER)
    )
    assert bad["data"] is None and "hodConsulted" in bad["errors"][0]["message"]
    with strawberry_refused(schema, monkeypatch):
        again = await gql(UPDATE, update, token=org.token(Role.TEACHER))
    _same(teacher, again)


def _mutations_metric(text: str, path: str) -> float:
    prefix = f'schoolgraph_graphql_mutations_total{{path="{path}"}}'
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_the_path_that_ran_a_mutation_is_logged_and_counted(
    app: Any, gql: GraphQLClient, org: Org, captured_log: io.StringIO
) -> None:
    mutation_lane(app_schema(app)).admitted.items.clear()
    sid = await upsert(gql, org, "FL-LOG")
    before = (await gql.http.get("/metrics")).text
    named = LOG.replace("mutation(", "mutation PathLogged(", 1)
    item = {"input": {"studentId": sid, "kind": "POSITIVE", "category": "kind"}}
    for _ in range(2):  # Strawberry runs it and admits it; then the lane
        assert (await gql(named, item, token=org.token()))["data"]["logIncident"]["errors"] == []
    lines = [ln for ln in captured_log.getvalue().splitlines() if "operation=PathLogged" in ln]
    assert len(lines) == 2, lines
    assert "write_path=strawberry" in lines[0] and "write_path=lane" in lines[1], lines
    after = (await gql.http.get("/metrics")).text
    for path in ("strawberry", "lane"):
        assert _mutations_metric(after, path) >= _mutations_metric(before, path) + 1, path
