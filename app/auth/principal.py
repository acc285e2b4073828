"""Who is acting: from a JWT for API calls, or a service identity for jobs and the CLI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.orgs.models import Role


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    org_id: uuid.UUID
    org_slug: str

    def has(self, *roles: Role) -> bool:
        return self.role in roles


def system_principal(org_id: uuid.UUID, org_slug: str, sub: str = "system") -> Principal:
    return Principal(sub=sub, role=Role.ADMIN, org_id=org_id, org_slug=org_slug)
