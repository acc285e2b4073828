"""Token claims are matched exactly: a role spelled with a look-alike letter is no role, and
a subject too long to record is refused at the door."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth import tokens
from app.auth.tokens import TokenVerifier
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


async def test_a_remembered_token_still_expires(gql: GraphQLClient, org: Org) -> None:
    """Verified tokens are remembered (TokenVerifier.verify), their times checked on every
    use: a token used while valid is refused once its exp has passed."""
    now = datetime.now(UTC)
    token = _token(org, exp=now + timedelta(seconds=2))
    for _ in range(2):
        body = await gql("{ me { sub } }", token=token)
        assert body["data"]["me"]["sub"] == "t"
    await asyncio.sleep(
        max(0.0, (now + timedelta(seconds=2.1) - datetime.now(UTC)).total_seconds())
    )
    response = await gql.raw("{ me { sub } }", None, token)
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"].lower()


async def test_a_token_is_not_remembered_before_it_is_valid(gql: GraphQLClient, org: Org) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    token = _token(org, nbf=soon)
    early = await gql.raw("{ me { sub } }", None, token)
    assert early.status_code == 401
    await asyncio.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds() + 0.1))
    body = await gql("{ me { sub } }", token=token)
    assert body["data"]["me"]["sub"] == "t"


async def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 8)
    verifier = TokenVerifier(secret=JWT_SECRET)
    issued = [_token(Org(id=uuid.uuid4(), slug=f"o{i}")) for i in range(12)]
    for token in issued:
        await verifier.verify(token)
    assert len(verifier._verified) == 8
    assert issued[0] not in verifier._verified and issued[-1] in verifier._verified
