"""Per-request DataLoaders. Each batch opens its own short-lived, org-scoped transaction:
an AsyncSession is not concurrency-safe, and Strawberry resolves sibling fields concurrently."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
L = TypeVar("L", bound="OrgLoader[Any, Any]")


class OrgLoader(DataLoader[K, V], Generic[K, V]):
    """Batch-load values for keys; subclasses implement `load_batch` with one query."""

    default: Any = None

    def __init__(self, db: Database, org_id: uuid.UUID, params: tuple[Any, ...]) -> None:
        super().__init__()
        self.db = db
        self.org_id = org_id
        self.params = params

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        async with self.db.transaction(self.org_id) as session:
            found = await self.load_batch(session, list(keys))
        return [found.get(key, self.default) for key in keys]

    async def load_batch(self, session: AsyncSession, keys: list[K]) -> Mapping[K, V]:
        raise NotImplementedError


class RowByIdLoader(OrgLoader[uuid.UUID, Any]):
    """Rows of `model` (an org-owned table with a UUID `id`) by id, in one query."""

    model: Any

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Any]:
        model = self.model
        rows = await session.execute(
            select(model).where(model.org_id == self.org_id, model.id.in_(keys))
        )
        return {row.id: row for row in rows.scalars()}


class Loaders:
    """Created per request (and per subscription event): nothing is cached across them."""

    def __init__(self, db: Database, org_id: uuid.UUID) -> None:
        self.db = db
        self.org_id = org_id
        self._loaders: dict[tuple[type[Any], tuple[Any, ...]], Any] = {}

    def get(self, cls: type[L], *params: Any) -> L:
        key = (cls, params)
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = cls(self.db, self.org_id, params)
        return loader
