"""The typed user error in every mutation payload: {field, message, code}."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from app.core.errors import ErrorCode as _ErrorCode
from app.core.errors import FieldError

ErrorCode = strawberry.enum(_ErrorCode, description="Why an input was refused.")


@strawberry.type(description="A problem with the input: the field (input name) and why.")
class UserError:
    field: str | None
    message: str
    code: ErrorCode  # type: ignore[valid-type]


def user_errors(errors: Iterable[FieldError]) -> list[UserError]:
    return [UserError(field=e.field, message=e.message, code=e.code) for e in errors]
