"""Turning a bearer token into a Principal: verify the JWT, then resolve its org slug."""

from __future__ import annotations

import time
import uuid

from app.auth.principal import Principal
from app.auth.tokens import AuthUnavailable, InvalidToken, TokenVerifier
from app.db import Database
from app.logs import log_internal
from app.orgs import service as orgs

_ORG_TTL_SECONDS = 60.0


class Authenticator:
    def __init__(self, verifier: TokenVerifier, db: Database) -> None:
        self.verifier = verifier
        self.db = db
        self._orgs: dict[str, tuple[float, uuid.UUID | None]] = {}

    async def _org_id(self, slug: str) -> uuid.UUID | None:
        cached = self._orgs.get(slug)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.transaction(None) as session:
            org = await orgs.get_by_slug(session, slug=slug)
        org_id = org.id if org else None
        self._orgs[slug] = (time.monotonic() + _ORG_TTL_SECONDS, org_id)
        return org_id

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise InvalidToken("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken("expected 'Authorization: Bearer <jwt>'")
        claims = await self.verifier.verify(token.strip())
        try:
            org_id = await self._org_id(claims.org)
        except Exception as exc:  # the database is down or hangs: ours, not the caller's
            raise AuthUnavailable(log_internal(exc, where="looking up the token's org")) from exc
        if org_id is None:
            raise InvalidToken("unknown organisation")
        return Principal(
            sub=claims.sub,
            role=claims.role,
            org_id=org_id,
            org_slug=claims.org,
            expires_at=claims.exp,
        )
