"""Token claims are matched exactly: a role spelled with a look-alike letter is no role, and
a subject too long to record is refused at the door."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from tests.conftest import JWT_SECRET, GraphQLClient, Org


def _token(org: Org, **claims: object) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": "t",
        "org": org.slug,
        "role": "ADMIN",
        "iat": now,
        "exp": now + timedelta(hours=1),
        **claims,
    }
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("role", ["adm\u0131n", "ADM\u0130N", "admin ", "", "OWNER", 3])
async def test_role_claims_must_match_exactly(gql: GraphQLClient, org: Org, role: object) -> None:
    response = await gql.raw("{ me { role } }", None, _token(org, role=role))
    assert response.status_code == 401
    assert "role" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("role", ["admin", "Admin", "ADMIN"])
async def test_ascii_case_does_not_matter(gql: GraphQLClient, org: Org, role: str) -> None:
    body = await gql("{ me { role } }", token=_token(org, role=role))
    assert body["data"]["me"]["role"] == "ADMIN"


async def test_a_subject_too_long_to_record_is_refused(gql: GraphQLClient, org: Org) -> None:
    response = await gql.raw("{ me { sub } }", None, _token(org, sub="x" * 300))
    assert response.status_code == 401
    assert "sub" in response.json()["errors"][0]["message"]
    body = await gql("{ me { sub } }", token=_token(org, sub="x" * 200))
    assert body["data"]["me"]["sub"] == "x" * 200
