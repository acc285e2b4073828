"""The typed GraphQL context: who is asking, their org, the database and the loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.graphql.dataloaders import Loaders


@dataclass
class Context:
    db: Database
    settings: Settings
    principal: Principal | None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def actor(self) -> Principal:
        if self.principal is None:
            raise PermissionError("not authenticated")
        return self.principal

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.db, self.actor.org_id)
        return self._loaders


Info = _Info[Context, None]
