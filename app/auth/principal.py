"""Who is acting: from a JWT for API calls, or a service identity for jobs and the CLI."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from app.orgs.models import Role


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    org_id: uuid.UUID
    org_slug: str
    # The token's `exp` (seconds since the epoch); None for service identities.
    expires_at: float | None = None

    def has(self, *roles: Role) -> bool:
        return self.role in roles

    def expired(self) -> bool:
        """A long-lived connection (a WebSocket) outlives a token: it asks at each operation."""
        return self.expires_at is not None and time.time() >= self.expires_at


def system_principal(org_id: uuid.UUID, org_slug: str, sub: str = "system") -> Principal:
    return Principal(sub=sub, role=Role.ADMIN, org_id=org_id, org_slug=org_slug)
