"""Role permissions, declared on the fields and mutations they guard."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from app.orgs.models import Role

ALL_ROLES = (Role.ADMIN, Role.TEACHER, Role.AIDE, Role.INTEGRATION)
STAFF = (Role.ADMIN, Role.TEACHER, Role.INTEGRATION)  # everyone but aides
TEACHING = (Role.ADMIN, Role.TEACHER)


@cache
def allow(*roles: Role) -> type[BasePermission]:
    """A permission class admitting only `roles` (cached: one class per role set)."""
    names = ", ".join(r.value for r in roles)

    class RolePermission(BasePermission):
        message = f"Not allowed: requires role {names}"

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = getattr(info.context, "principal", None)
            return principal is not None and principal.role in roles

    RolePermission.__name__ = "Allow" + "".join(r.value.title() for r in roles)
    return RolePermission


def roles_note(*roles: Role) -> str:
    return "Roles: " + ", ".join(r.value for r in roles) + "."
