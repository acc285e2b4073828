"""CORS_ORIGINS: the pages of the origins listed may call the API from a browser (preflight
and actual requests), others may not; credentials stay off unless asked for; unset, no
CORS headers at all (same origin only)."""

from __future__ import annotations

import httpx

from app.config import Settings
from tests.conftest import JWT_SECRET, GraphQLClient, Org, Servers
from tests.support import client_for

ALLOWED = "https://dash.example.org"
OTHER = "https://evil.example.com"
ME = """{ me { sub } }"""

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


async def _preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options("/graphql", headers={"Origin": origin, **PREFLIGHT})


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_listed_origin_passes_the_preflight_without_credentials(
    servers: Servers,
) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, cors_origins=ALLOWED)
    async with client_for(settings, servers) as http:
        response = await _preflight(http, ALLOWED)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed_methods = response.headers["access-control-allow-methods"]
    assert "POST" in [m.strip() for m in allowed_methods.split(",")]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= {h.strip() for h in allowed_headers.split(",")}
    # The API takes bearer tokens: no cookies unless CORS_ALLOW_CREDENTIALS says so.
    assert "access-control-allow-credentials" not in response.headers


async def test_an_origin_not_listed_is_refused_at_the_preflight(servers: Servers) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, cors_origins=f"{ALLOWED}, https://b.example.org")
    async with client_for(settings, servers) as http:
        refused = await _preflight(http, OTHER)
        second = await _preflight(http, "https://b.example.org")  # the list is split
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert second.status_code == 200
    assert second.headers["access-control-allow-origin"] == "https://b.example.org"


async def test_an_actual_request_from_a_listed_origin_is_answered_with_its_origin(
    servers: Servers, org: Org
) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, cors_origins=ALLOWED)
    headers = {"Authorization": f"Bearer {org.token()}"}
    async with client_for(settings, servers) as http:
        allowed = await http.post(
            "/graphql", json={"query": ME}, headers={**headers, "Origin": ALLOWED}
        )
        other = await http.post(
            "/graphql", json={"query": ME}, headers={**headers, "Origin": OTHER}
        )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"]["me"]["sub"] == "tester"
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in allowed.headers
    # The server answers; the browser withholds the answer from a page of another origin.
    assert "access-control-allow-origin" not in other.headers


async def test_credentials_are_allowed_only_when_asked_for(servers: Servers, org: Org) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, cors_origins=ALLOWED, cors_allow_credentials=True)
    async with client_for(settings, servers) as http:
        preflight = await _preflight(http, ALLOWED)
        actual = await http.post(
            "/graphql",
            json={"query": ME},
            headers={"Authorization": f"Bearer {org.token()}", "Origin": ALLOWED},
        )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert actual.status_code == 200, actual.text
    assert actual.headers["access-control-allow-origin"] == ALLOWED
    assert actual.headers["access-control-allow-credentials"] == "true"


async def test_without_cors_origins_no_cors_headers_at_all(gql: GraphQLClient, org: Org) -> None:
    preflight = await _preflight(gql.http, ALLOWED)
    assert _cors_headers(preflight) == {}
    assert preflight.status_code == 405  # no CORS layer: /graphql takes GET and POST only
    actual = await gql.http.post(
        "/graphql",
        json={"query": ME},
        headers={"Authorization": f"Bearer {org.token()}", "Origin": ALLOWED},
    )
    assert actual.status_code == 200, actual.text
    assert _cors_headers(actual) == {}
