"""Running a mutation: one org-scoped transaction; service errors become typed user errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import ServiceError
from app.graphql.context import Info
from app.graphql.errors import UserError, user_errors

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
        async with info.context.db.transaction(actor.org_id) as session:
            return await work(session, actor)
    except ServiceError as exc:
        return Refused(user_errors(exc.errors))
