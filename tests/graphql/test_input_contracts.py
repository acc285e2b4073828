"""Every input declares its limits: a field added without a contract fails here.

Walks every input type and every field argument of the schema: a String, ID, Int, Float,
JSON, Date or DateTime (or a list) must carry a contract (app.core.contracts) whose limits
show in its description; then checks that the declared limits are enforced."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from app.graphql.contracts import CONTRACT
from app.graphql.schema import schema
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

NEEDS_CONTRACT = {"String", "ID", "Int", "Float", "JSON", "Date", "DateTime"}


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _strawberry_metadata(owner: str, name: str, argument: str | None = None) -> dict[str, Any]:
    definition = schema.get_type_by_name(owner)
    assert definition is not None
    field = next(
        f for f in definition.fields if schema.config.name_converter.get_graphql_name(f) == name
    )  # type: ignore[union-attr]
    if argument is None:
        return dict(field.metadata or {})
    arg = next(
        a for a in field.arguments if schema.config.name_converter.get_graphql_name(a) == argument
    )
    return dict(arg.metadata or {})


def _missing(
    where: str, target: GraphQLInputField | GraphQLArgument, metadata: dict[str, Any]
) -> str | None:
    named, is_list = _unwrap(target.type)
    needs = (isinstance(named, GraphQLScalarType) and named.name in NEEDS_CONTRACT) or (
        is_list and isinstance(named, GraphQLInputObjectType)
    )
    if not needs:
        return None
    contract = metadata.get(CONTRACT)
    if contract is None:
        return f"{where}: {named.name}{'[]' if is_list else ''} without a contract"
    if contract.describe() not in (target.description or ""):
        return f"{where}: the description does not show {contract.describe()!r}"
    return None


def test_every_input_field_and_argument_declares_its_limits() -> None:
    problems = []
    for type_ in schema._schema.type_map.values():
        if type_.name.startswith("__"):
            continue
        if isinstance(type_, GraphQLInputObjectType):
            for name, field in type_.fields.items():
                problem = _missing(
                    f"{type_.name}.{name}", field, _strawberry_metadata(type_.name, name)
                )
                problems.append(problem)
        elif isinstance(type_, GraphQLObjectType):
            for name, field in type_.fields.items():
                for arg_name, arg in field.args.items():
                    problem = _missing(
                        f"{type_.name}.{name}({arg_name})",
                        arg,
                        _strawberry_metadata(type_.name, name, arg_name),
                    )
                    problems.append(problem)
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


# --- The declared limits hold: the reproductions answer with the field and code.

RECORD = """mutation($input: RecordAssessmentInput!) { recordAssessment(input: $input) {
    assessment { id } errors { field code } } }"""
LOG = """mutation($input: LogIncidentInput!) { logIncident(input: $input) {
    incident { id } errors { field code } } }"""
LOG_MANY = """mutation($input: LogIncidentsInput!) { logIncidents(input: $input) {
    results { index created } errors { field code } } }"""
ATTEND = """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
    days { id } errors { field code } } }"""


def _diagnostic(sid: str, **extra: Any) -> dict[str, Any]:
    return {
        "studentId": sid,
        "kind": "DIAGNOSTIC",
        "subject": "MATH",
        "takenOn": (date.today() - timedelta(days=2)).isoformat(),
        "scaleScore": 480,
        **extra,
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"placement": "x" * 10_000}, ("placement", "TOO_LONG")),
        ({"lexile": "x" * 10_000}, ("lexile", "TOO_LONG")),
        ({"scaleScore": 10_000_000}, ("scaleScore", "OUT_OF_RANGE")),
        ({"relativePlacement": "40000 Grade Levels Below"}, ("relativePlacement", "OUT_OF_RANGE")),
        ({"takenOn": "9999-09-01"}, ("takenOn", "OUT_OF_RANGE")),
        ({"domainScores": {"a": {"b": {"c": 1}}}}, ("domainScores", "OUT_OF_RANGE")),
    ],
)
async def test_assessment_limits(
    gql: GraphQLClient, org: Org, extra: dict[str, Any], expected: tuple[str, str]
) -> None:
    sid = await upsert(gql, org, "LIM1")
    body = await gql(RECORD, {"input": _diagnostic(sid, **extra)}, token=org.token(Role.TEACHER))
    payload = body["data"]["recordAssessment"]
    assert payload["assessment"] is None
    assert (payload["errors"][0]["field"], payload["errors"][0]["code"]) == expected


async def test_an_incident_in_the_year_one_is_refused(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "LIM2")
    body = await gql(
        LOG,
        {
            "input": {
                "studentId": sid,
                "kind": "NEGATIVE",
                "category": "late",
                "occurredAt": "0001-01-01T00:00:00Z",
            }
        },
        token=org.token(),
    )
    assert body["data"]["logIncident"]["errors"] == [
        {"field": "occurredAt", "code": "OUT_OF_RANGE"}
    ]


async def test_batch_items_are_named_and_nothing_is_written(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "LIM3")
    items = [{"studentId": sid, "kind": "POSITIVE", "category": "kind"} for _ in range(5)]
    items[3]["note"] = "x" * 10_001
    body = await gql(LOG_MANY, {"input": {"items": items}}, token=org.token())
    payload = body["data"]["logIncidents"]
    assert payload["errors"] == [{"field": "items[3].note", "code": "TOO_LONG"}]
    assert payload["results"] == []
    listed = await gql("{ incidents(first: 10) { edges { cursor } } }", token=org.token())
    assert listed["data"]["incidents"]["edges"] == []


async def test_too_many_items_is_refused(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "LIM4")
    items = [{"studentId": sid, "kind": "POSITIVE", "category": "kind"}] * 201
    body = await gql(LOG_MANY, {"input": {"items": items}}, token=org.token())
    assert body["data"]["logIncidents"]["errors"] == [{"field": "items", "code": "OUT_OF_RANGE"}]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_attendance_days_out_of_any_window(gql: GraphQLClient, org: Org, day: str) -> None:
    sid = await upsert(gql, org, "LIM5")
    body = await gql(
        ATTEND, {"input": {"days": [{"studentId": sid, "day": day}]}}, token=org.token()
    )
    assert body["data"]["recordAttendance"]["errors"] == [
        {"field": "days[0].day", "code": "OUT_OF_RANGE"}
    ]


async def test_query_arguments_are_checked_too(gql: GraphQLClient, org: Org) -> None:
    body = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": "x" * 300}, token=org.token()
    )
    assert body["errors"][0]["extensions"] == {"field": "id", "code": "TOO_LONG"}
