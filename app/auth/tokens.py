"""JWTs (PyJWT): HS256 with JWT_SECRET, or RS256 keys from an identity provider's JWKS."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.core.text import control_character
from app.logs import log_internal
from app.orgs.models import Role


class InvalidToken(Exception):
    pass


class AuthUnavailable(Exception):
    """The token could not be checked for a reason of ours (the database, the identity
    provider's keys): a 503, not a 401. The detail is logged under `error_id`."""

    def __init__(self, error_id: str) -> None:
        super().__init__(error_id)
        self.error_id = error_id


@dataclass(frozen=True)
class Claims:
    sub: str
    org: str
    role: Role
    exp: float


def issue(
    secret: str, *, sub: str, org: str, role: Role, ttl: timedelta = timedelta(hours=12)
) -> str:
    now = datetime.now(UTC)
    payload = {"sub": sub, "org": org, "role": role.value, "iat": now, "exp": now + ttl}
    return jwt.encode(payload, secret, algorithm="HS256")


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None,
        jwks_url: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
    ) -> None:
        if not secret and not jwks_url:
            raise ValueError("set JWT_SECRET or JWT_JWKS_URL")
        self.secret = secret
        self.audience = audience
        self.issuer = issuer
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._verified: OrderedDict[str, tuple[Claims, float]] = OrderedDict()

    async def verify(self, token: str) -> Claims:
        """The token's claims, if its signature and claims hold now.

        A token verified once is remembered (up to VERIFIED_CACHE_SIZE of them), so a client
        that sends the same token with every request pays for the signature check once; the
        times it was checked against (exp, nbf, iat) are checked again on every use."""
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, not_before = remembered
            now = time.time()
            if not_before <= now < claims.exp:
                self._verified.move_to_end(token)
                return claims
            del self._verified[token]
        claims, not_before = await self._verify(token)
        self._verified[token] = (claims, not_before)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> tuple[Claims, float]:
        try:
            header = jwt.get_unverified_header(token)
            options: jwt.types.Options = {"require": ["exp", "sub"]}
            kwargs: dict[str, Any] = {"audience": self.audience, "issuer": self.issuer}
            if header.get("alg") == "HS256" and self.secret:
                payload = jwt.decode(
                    token, self.secret, algorithms=["HS256"], options=options, **kwargs
                )
            elif self.jwks is not None:
                key = await asyncio.to_thread(self.jwks.get_signing_key_from_jwt, token)
                payload = jwt.decode(
                    token, key.key, algorithms=["RS256"], options=options, **kwargs
                )
            else:
                raise InvalidToken("unsupported token algorithm")
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthUnavailable(log_internal(exc, where="fetching the JWKS")) from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        org, role, sub = payload.get("org"), payload.get("role"), str(payload["sub"])
        if not isinstance(org, str) or not org or len(org) > MAX_ORG_LENGTH:
            raise InvalidToken("token has no valid org claim")
        # The subject is written as who logged what (audit, incidents): bounded, printable.
        if not sub or len(sub) > MAX_SUB_LENGTH or control_character(sub) is not None:
            raise InvalidToken(f"token's sub claim must be 1 to {MAX_SUB_LENGTH} characters")
        # PyJWT refuses a token before its nbf and before its iat (with no leeway).
        not_before = max(_number(payload.get("nbf")), _number(payload.get("iat")))
        return Claims(sub=sub, org=org, role=_role(role), exp=float(payload["exp"])), not_before


VERIFIED_CACHE_SIZE = 4096


def _number(claim: object) -> float:
    return float(claim) if isinstance(claim, int | float) else float("-inf")


MAX_SUB_LENGTH = 200  # users.sub, incidents.logged_by, audit_log.actor_sub
MAX_ORG_LENGTH = 63  # orgs.slug


def _role(claim: object) -> Role:
    """The role claim matches a role exactly, ASCII letters in any case: after Unicode case
    folding 'adm\u0131n' (a dotless i) would read as ADMIN."""
    if not isinstance(claim, str) or not claim.isascii():
        raise InvalidToken("token has an unknown role")
    try:
        return Role(claim.upper())
    except ValueError as exc:
        raise InvalidToken("token has an unknown role") from exc
