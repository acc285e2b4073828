"""JSON at the door: bodies and GET parameters nested deeper than MAX_JSON_DEPTH are refused
with 400 before anything parses them; the scan counts brackets outside strings only."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from app.middleware import DEFAULT_MAX_JSON_DEPTH, json_depth_exceeds
from tests.conftest import GraphQLClient, Org

ME = "{ me { sub } }"
RECORD = """mutation($input: RecordAssessmentInput!) { recordAssessment(input: $input) {
    assessment { id } errors { field code } } }"""


def nested(depth: int, leaf: str = "1") -> str:
    """JSON text of objects nested `depth` deep: depth 1 is `{"a":1}`."""
    return '{"a":' * depth + leaf + "}" * depth


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


# Text that tries to fool a scan: brackets, quotes and backslashes inside strings.
_TRICKY = ["[", "]", "{", "}", '"', "\\", '\\"', '"[', "\\\\", "{[", "x", "é", "😀", "\u2028"]


def _leaf(rng: random.Random) -> Any:
    if rng.random() < 0.5:
        return "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 6)))
    return rng.choice([1, -2.5, True, None, 0])


def random_value(rng: random.Random, depth: int) -> Any:
    """A value exactly `depth` deep: a spine of containers, with shallow siblings."""
    if depth == 0:
        return _leaf(rng)
    children = [random_value(rng, rng.randint(0, min(depth - 1, 2))) for _ in range(3)]
    children = children[: rng.randint(0, 3)]
    children.insert(rng.randint(0, len(children)), random_value(rng, depth - 1))
    if rng.random() < 0.5:
        return children
    return {
        "".join(rng.choice(_TRICKY) for _ in range(3)) + str(i): c for i, c in enumerate(children)
    }


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_scan_agrees_with_the_parsed_depth(ensure_ascii: bool) -> None:
    rng = random.Random(14)
    for _ in range(400):
        value = random_value(rng, rng.randint(0, 90))
        text = json.dumps(value, ensure_ascii=ensure_ascii)
        depth = depth_of(json.loads(text))
        for limit in {0, max(depth - 1, 0), depth, depth + 1, 64}:
            assert json_depth_exceeds(text, limit) is (depth > limit), (text, limit)


def test_scan_cases() -> None:
    assert json_depth_exceeds(nested(65), 64)
    assert not json_depth_exceeds(nested(64), 64)
    assert json_depth_exceeds("[" * 100_000 + "]" * 100_000, 64)
    # Brackets inside strings are text, escaped quotes and backslashes included.
    assert not json_depth_exceeds(json.dumps({"note": "[" * 10_000}), 64)
    assert not json_depth_exceeds(json.dumps({"note": '\\"' + "{" * 1_000 + '"\\'}), 64)
    assert json_depth_exceeds('["\\\\"' + "," + "[" * 65 + "]" * 65 + "]", 64)
    # An escaped quote does not close the string, so what follows is still text.
    assert not json_depth_exceeds('["\\"' + "[" * 100 + '"]', 64)
    # Not JSON: whatever the answer, no parser gets to recurse deeper than the limit.
    assert not json_depth_exceeds("]" * 100 + "[" * 100, 64)
    assert json_depth_exceeds("[" * 100, 64)  # truncated, but a parser would recurse first
    assert not json_depth_exceeds('"' + "[" * 100, 64)  # an unterminated string


async def post(gql: GraphQLClient, content: bytes, token: str, **headers: str) -> httpx.Response:
    return await gql.http.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", "Authorization": f"Bearer {token}", **headers},
    )


def assert_too_deep(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "JSON_TOO_DEEP"}
    assert f"more than {DEFAULT_MAX_JSON_DEPTH} levels deep (MAX_JSON_DEPTH)" in error["message"]


async def test_deep_variables_and_extensions_are_refused(gql: GraphQLClient, org: Org) -> None:
    query = json.dumps(ME)
    deep_variables = f'{{"query":{query},"variables":{nested(100_000)}}}'
    assert_too_deep(await post(gql, deep_variables.encode(), org.token()))
    deep_extensions = f'{{"query":{query},"extensions":{nested(50_000)}}}'
    assert_too_deep(await post(gql, deep_extensions.encode(), org.token()))
    # Without a token too: the door is before authentication.
    assert_too_deep(await post(gql, deep_variables.encode(), ""))


async def test_deep_domain_scores_are_refused(gql: GraphQLClient, org: Org) -> None:
    variables = (
        '{"input":{"studentId":"x","kind":"DIAGNOSTIC","subject":"MATH",'
        f'"takenOn":"2025-01-01","domainScores":{nested(5_000)}}}}}'
    )
    body = f'{{"query":{json.dumps(RECORD)},"variables":{variables}}}'
    assert_too_deep(await post(gql, body.encode(), org.token()))


async def test_the_limit_itself_is_served(gql: GraphQLClient, org: Org) -> None:
    query = json.dumps(ME)
    # The body is one level, `extensions` the second: 62 more make 64, one more is refused.
    at_limit = f'{{"query":{query},"extensions":{{"x":{nested(62)}}}}}'
    response = await post(gql, at_limit.encode(), org.token())
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["sub"] == "tester"
    over = f'{{"query":{query},"extensions":{{"x":{nested(63)}}}}}'
    assert_too_deep(await post(gql, over.encode(), org.token()))


async def test_brackets_in_strings_are_text(gql: GraphQLClient, org: Org) -> None:
    body = {"query": ME, "variables": {"unused": "[{" * 20_000 + '"\\'}}
    response = await post(gql, json.dumps(body).encode(), org.token())
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["sub"] == "tester"


async def test_deep_get_parameters_are_refused(gql: GraphQLClient, org: Org) -> None:
    headers = {"Authorization": f"Bearer {org.token()}"}
    # As deep as a URL carries (httpx stops at 64 kB), far past what json.loads survives.
    for name in ("variables", "extensions"):
        url = "/graphql?" + urlencode(
            {"query": ME, name: '{"a":' + "[" * 8_000 + "]" * 8_000 + "}"}
        )
        response = await gql.http.get(url, headers=headers)
        assert response.status_code == 400, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"] == {"code": "JSON_TOO_DEEP"}
        assert f"`{name}`" in error["message"]
    url = "/graphql?" + urlencode({"query": ME, "variables": nested(60)})
    response = await gql.http.get(url, headers=headers)
    assert response.status_code == 200, response.text


async def test_other_encodings_are_scanned_as_the_parser_reads_them(
    gql: GraphQLClient, org: Org
) -> None:
    # json.loads reads UTF-16 and UTF-32 bytes too: the scan must see the same brackets.
    deep = f'{{"query":{json.dumps(ME)},"variables":{nested(10_000)}}}'
    for encoding in ("utf-16-le", "utf-16", "utf-32"):
        assert_too_deep(await post(gql, deep.encode(encoding), org.token()))
    shallow = json.dumps({"query": ME}).encode("utf-16")
    response = await post(gql, shallow, org.token())
    assert response.status_code == 200, response.text


async def test_undecodable_json_is_a_400(gql: GraphQLClient, org: Org) -> None:
    response = await post(gql, b'{"query": "\xff{ me { sub } }"}', org.token())
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_non_json_bodies_pass_through(gql: GraphQLClient, org: Org) -> None:
    # Not scanned (only JSON media types are): Strawberry itself refuses the media type.
    response = await post(gql, b"[" * 100_000, org.token(), **{"content-type": "text/plain"})
    assert response.status_code == 400, response.text
    assert "JSON_TOO_DEEP" not in response.text
