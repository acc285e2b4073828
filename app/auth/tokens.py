"""JWTs (PyJWT): HS256 with JWT_SECRET, or RS256 keys from an identity provider's JWKS."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.orgs.models import Role


class InvalidToken(Exception):
    pass


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

    async def verify(self, token: str) -> Claims:
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
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        org, role = payload.get("org"), payload.get("role")
        if not isinstance(org, str) or not org:
            raise InvalidToken("token has no org claim")
        try:
            return Claims(
                sub=str(payload["sub"]),
                org=org,
                role=Role(str(role).upper()),
                exp=float(payload["exp"]),
            )
        except ValueError as exc:
            raise InvalidToken("token has an unknown role") from exc
