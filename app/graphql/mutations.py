"""Running a mutation: one org-scoped transaction; service errors become typed user errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.graphql.context import Info
from app.graphql.errors import UserError, user_errors
from app.logs import current_request, new_error_id

R = TypeVar("R")

log = logging.getLogger("schoolgraph.errors")

INTERNAL_ERROR = "Internal server error"


@dataclass
class Refused:
    errors: list[UserError]


async def in_transaction(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[R]]
) -> R | Refused:
    """Commit `work` as a whole, or roll it all back and answer with the user errors."""
    actor = info.context.actor
    try:
        async with info.context.db.transaction(actor.org_id) as session:
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


def internal_error(exc: BaseException, *, where: str, field: str | None = None) -> UserError:
    """An exception of ours as a user error, the way Schema.process_errors masks one: the
    client gets `Internal server error` and an error id, the log the detail under that id
    (SQL without its parameters, see db.create_engine), the request line the id."""
    error_id = new_error_id()
    log.error(
        "internal error %s at %s: %s",
        error_id,
        where,
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"error_id": error_id},
    )
    entry = current_request()
    if entry is not None:
        entry.error_ids.append(error_id)
    return UserError(
        field=field,
        message=f"{INTERNAL_ERROR} (errorId {error_id})",
        code=ErrorCode.INTERNAL_SERVER_ERROR,
    )
