"""Running a mutation: one org-scoped transaction; service errors become typed user errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.graphql.context import Info
from app.graphql.errors import UserError, user_errors
from app.logs import INTERNAL_ERROR, log_internal

R = TypeVar("R")


@dataclass
class Refused:
    errors: list[UserError]


async def in_transaction(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[R]]
) -> R | Refused:
    """Commit `work` as a whole, or roll it all back and answer with the user errors."""
    actor = info.context.actor
    try:
        async with info.context.db.transaction(actor.org_id, generic_plans=True) as session:
            return await work(session, actor)
    except ServiceError as exc:
        return Refused(user_errors(exc.errors))


async def in_own_transaction(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[R]], *, where: str
) -> R | Refused:
    """in_transaction for one item of a batch whose items commit one by one: an unexpected
    exception is refused too, as that item's INTERNAL_SERVER_ERROR (see internal_error), so
    that the batch goes on and its answer accounts for every item it wrote."""
    try:
        return await in_transaction(info, work)
    except Exception as exc:
        return Refused([internal_error(exc, where=where)])


def internal_error(exc: BaseException, *, where: str) -> UserError:
    """An exception of ours as a user error, the way Schema.process_errors masks one: the
    client gets `Internal server error` and an error id, the log the detail under that id."""
    error_id = log_internal(exc, where=where)
    return UserError(
        field=None,
        message=f"{INTERNAL_ERROR} (errorId {error_id})",
        code=ErrorCode.INTERNAL_SERVER_ERROR,
    )
