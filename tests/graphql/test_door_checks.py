"""Operations refused before any resolver: control characters in any text, and a cost the
server will not pay. Text that passes is NFC-normalised by the one validator."""

from __future__ import annotations

import unicodedata

from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert

FAN_OUT = """{ students(first: 100) { edges { node { incidents(first: 100) { edges { node {
    student { incidents(first: 100) { edges { node { id } } } } } } } } } } }"""
CLASS_VIEW = """query($c: String!) { students(first: 30, filter: {classCode: $c}) { edges { node {
    id name incidents(first: 10) { edges { node { id occurredAt kind category } } } } } } }"""


async def test_a_nul_in_a_variable_is_refused_naming_the_field(
    gql: GraphQLClient, org: Org
) -> None:
    sid = await upsert(gql, org, "NUL1")
    body = await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "a\u0000b"}},
        token=org.token(),
    )
    # A mutation answers in its payload, naming the field inside `input` as services do.
    payload = body["data"]["logIncident"]
    assert payload["incident"] is None
    (error,) = payload["errors"]
    assert (error["field"], error["code"]) == ("category", "INVALID_CHARACTERS")
    assert "U+0000" in error["message"]


async def test_a_control_character_in_a_literal_is_refused(gql: GraphQLClient, org: Org) -> None:
    body = await gql(
        '{ students(filter: {nameContains: "a\\u0007b"}) { edges { cursor } } }',
        token=org.token(),
    )
    assert body["errors"][0]["extensions"] == {
        "field": "filter.nameContains",
        "code": "INVALID_CHARACTERS",
    }


async def test_tabs_and_newlines_are_text(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "TAB1")
    body = await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "NEUTRAL", "category": "note", "note": "a\tb\r\nc"}},
        token=org.token(),
    )
    assert body["data"]["logIncident"]["errors"] == []


async def test_services_refuse_control_characters_too(gql: GraphQLClient, org: Org) -> None:
    """The same rule in the service: CSV rows and webhooks reach it without GraphQL."""
    from app.core.errors import ServiceError, Validator

    v = Validator("rows[2].")
    assert v.text("externalId", "S\u00001", max_length=64) is None
    try:
        v.raise_if_any()
    except ServiceError as exc:
        assert [(e.field, e.code.value) for e in exc.errors] == [
            ("rows[2].externalId", "INVALID_CHARACTERS")
        ]
    else:
        raise AssertionError("a NUL was accepted")


async def test_text_is_nfc_normalised(gql: GraphQLClient, org: Org) -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë Müller")
    assert decomposed != "Zoë Müller"
    body = await gql(
        """mutation($input: UpsertStudentInput!) { upsertStudent(input: $input) {
             student { externalId name } errors { field } } }""",
        {"input": {"externalId": " NFC1 ", "name": decomposed}},
        token=org.token(),
    )
    student = body["data"]["upsertStudent"]["student"]
    assert student == {"externalId": "NFC1", "name": "Zoë Müller"}


async def test_a_fan_out_over_the_cost_limit_is_refused(gql: GraphQLClient, org: Org) -> None:
    body = await gql(FAN_OUT, token=org.token())
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"]
    assert body["data"] is None


async def test_cost_uses_the_variables(gql: GraphQLClient, org: Org) -> None:
    query = """query($n: Int) { students(first: $n) { edges { node { incidents(first: $n) {
        edges { node { student { incidents(first: $n) { edges { node { id } } } } } } } } } } }"""
    small = await gql(query, {"n": 5}, token=org.token())
    assert "errors" not in small, small
    big = await gql(query, {"n": 100}, token=org.token())
    assert big["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_the_class_view_is_well_within_the_limit(gql: GraphQLClient, org: Org) -> None:
    body = await gql(CLASS_VIEW, {"c": "7A"}, token=org.token(Role.TEACHER))
    assert "errors" not in body, body


def _doubling(depth: int) -> str:
    """Fragments each spreading the next one twice: 2^depth selections once spread out."""
    chain = [f"fragment D{i} on Student {{ ...D{i + 1} ...D{i + 1} }}" for i in range(depth)]
    chain.append(f"fragment D{depth} on Student {{ id name }}")
    return "{ students(first: 0) { edges { node { ...D0 } } } } " + " ".join(chain)


async def test_fragments_spread_exponentially_are_refused_quickly(
    gql: GraphQLClient, org: Org
) -> None:
    # Without the check, validating this (2^24 selections spread out) takes hours: the
    # test's timeout (pytest-timeout) fails it.
    body = await gql(_doubling(24), token=org.token())
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_fragments_spread_a_few_times_are_fine(gql: GraphQLClient, org: Org) -> None:
    body = await gql(_doubling(4), token=org.token())
    assert "errors" not in body, body


async def test_a_lone_surrogate_is_refused_naming_the_field(gql: GraphQLClient, org: Org) -> None:
    import json

    sid = await upsert(gql, org, "SUR1")
    variables = {
        "input": {
            "studentId": sid,
            "kind": "NEGATIVE",
            "category": "late",
            "note": "a\ud800b",
            "clientId": "6f1c1a9e-4e0c-4d6b-9a57-0f7f3c1d2b11",
        }
    }
    # JSON may carry a lone surrogate as an escape; the test client would refuse to encode it.
    response = await gql.http.post(
        "/graphql",
        content=json.dumps({"query": LOG, "variables": variables}),
        headers={"Authorization": f"Bearer {org.token()}", "content-type": "application/json"},
    )
    (error,) = response.json()["data"]["logIncident"]["errors"]
    assert (error["field"], error["code"]) == ("note", "INVALID_CHARACTERS")


async def test_lists_without_a_page_size_count_what_they_declare(
    gql: GraphQLClient, org: Org
) -> None:
    """attendance has no first: it declares 400 days, so 100 students of it cost ~400,000."""
    body = await gql(
        """{ students(first: 100) { edges { node { attendance { day dailyStatus percentage
             presentPeriods scheduledPeriods allDayCode } } } } }""",
        token=org.token(),
    )
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    body = await gql(
        "{ students(first: 10) { edges { node { attendance { day } } } } }", token=org.token()
    )
    assert "errors" not in body, body
