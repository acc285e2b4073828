"""Resolving a query against a service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.context import Info

R = TypeVar("R")


async def read(info: Info, work: Callable[[AsyncSession], Awaitable[R]]) -> R:
    """Run `work` in a short read transaction of the caller's org. A ServiceError it raises
    reaches the client as an error naming the field (see schema.Schema.process_errors)."""
    async with info.context.db.transaction(info.context.actor.org_id) as session:
        return await work(session)
