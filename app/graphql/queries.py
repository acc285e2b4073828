"""Resolving a query against a service: service errors become GraphQL errors naming the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ServiceError
from app.graphql.context import Info

R = TypeVar("R")


async def read(info: Info, work: Callable[[AsyncSession], Awaitable[R]]) -> R:
    """Run `work` in a short read transaction of the caller's org."""
    try:
        async with info.context.db.transaction(info.context.actor.org_id) as session:
            return await work(session)
    except ServiceError as exc:
        first = exc.errors[0]
        raise GraphQLError(
            str(exc), extensions={"field": first.field, "code": first.code.value}
        ) from exc
