"""Role permissions, declared on the fields and mutations they guard, and on the input fields
only some roles may write."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField

from app.core.errors import ErrorCode, FieldError
from app.orgs.models import Role

ALL_ROLES = (Role.ADMIN, Role.TEACHER, Role.AIDE, Role.INTEGRATION)
STAFF = (Role.ADMIN, Role.TEACHER, Role.INTEGRATION)  # everyone but aides
TEACHING = (Role.ADMIN, Role.TEACHER)
IMPORTERS = (Role.ADMIN, Role.INTEGRATION)  # imports, and so file uploads

# The metadata key of an input field's write roles (see `guarded`).
WRITE_ROLES = "write_roles"


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


def guarded(
    *roles: Role,
    description: str | None = None,
    default: Any = strawberry.UNSET,
    field: Any = None,
) -> Any:
    """An input field only `roles` may write. Giving it at all, null included (null clears),
    is a write: a mutation carrying it refuses other roles (`role_errors`). The roles show in
    the schema as the description's "Roles: …".

    `field` guards an input field built elsewhere (with its own default, description and
    metadata, e.g. an input contract) instead of a plain one."""
    if field is None:
        field = strawberry.field(default=default, description=description)
    if not isinstance(field, StrawberryField):
        raise TypeError("guarded(field=...) takes a strawberry.field")
    note = roles_note(*roles)
    field.description = f"{field.description} {note}" if field.description else note
    field.metadata = MappingProxyType({**field.metadata, WRITE_ROLES: tuple(roles)})
    return field


def write_roles(field: StrawberryField) -> tuple[Role, ...] | None:
    """The roles that may write an input field, or None when the field is not guarded."""
    metadata: Mapping[str, Any] = field.metadata or {}
    roles: tuple[Role, ...] | None = metadata.get(WRITE_ROLES)
    return roles


def forbidden_fields(
    value: Any, role: Role | None, info: Info, path: str = ""
) -> Iterator[tuple[str, tuple[Role, ...]]]:
    """(input path, write roles) of every guarded field given in `value` (an input object,
    a list of them, or anything else) that `role` may not write; paths read like the error
    paths of the services: `supportNotes`, `items[2].supportNotes`."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from forbidden_fields(item, role, info, f"{path}[{i}]")
        return
    definition = get_object_definition(value)
    if definition is None or not definition.is_input:
        return
    names = info.schema.config.name_converter
    for field in definition.fields:
        item = getattr(value, field.python_name)
        if item is strawberry.UNSET:
            continue
        child = names.get_graphql_name(field)
        child = f"{path}.{child}" if path else child
        roles = write_roles(field)
        if roles is not None and role not in roles:
            yield child, roles
        yield from forbidden_fields(item, role, info, child)


def role_errors(info: Info, kwargs: dict[str, Any]) -> list[FieldError]:
    """FORBIDDEN for every guarded input field given in a mutation's arguments that the
    caller's role may not write (checked with the input contracts, app.graphql.contracts,
    before the resolver runs: nothing is written)."""
    principal = getattr(info.context, "principal", None)
    role = principal.role if principal is not None else None
    found: list[FieldError] = []
    for name, value in kwargs.items():
        prefix = "" if name == "input" else name
        for path, roles in forbidden_fields(value, role, info, prefix):
            allowed = ", ".join(r.value for r in roles)
            found.append(
                FieldError(
                    path, f"{path} may be written only by roles {allowed}", ErrorCode.FORBIDDEN
                )
            )
    return found
