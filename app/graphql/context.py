"""The typed GraphQL context: who is asking, their org, the database and the loaders.

An HTTP request gets a context of its own. A WebSocket gets one context for its whole life
(Strawberry builds it at the handshake), so what must not outlive an operation — the
DataLoaders and their caches — lives in an operation scope instead: the socket handlers in
app.graphql.sockets open one around each operation (see `operation_scope`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.events.live import LiveHub
from app.graphql.dataloaders import Loaders
from app.queue import JobQueue
from app.ratelimit import RateLimiter


@dataclass
class _OperationScope:
    loaders: Loaders | None = None


# Set inside each WebSocket operation's task, so concurrent operations on one socket never
# see each other's scope; unset for HTTP requests.
_operation: ContextVar[_OperationScope | None] = ContextVar("schoolgraph_operation", default=None)


@contextmanager
def operation_scope() -> Iterator[None]:
    """Loaders built inside this block belong to it and are dropped at its end."""
    token = _operation.set(_OperationScope())
    try:
        yield
    finally:
        _operation.reset(token)


@dataclass
class Context:
    db: Database
    settings: Settings
    principal: Principal | None
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    # The per-subject limit, checked for each operation on a socket (HTTP checks it once
    # per request, in the view).
    rate_limiter: RateLimiter | None = None
    # The process's live subscriptions (app.events.live); None where there are none (CLI).
    live: LiveHub | None = None
    # The job queue (imports); None where there is none (CLI).
    queue: JobQueue | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def actor(self) -> Principal:
        if self.principal is None:
            raise PermissionError("not authenticated")
        return self.principal

    @property
    def loaders(self) -> Loaders:
        scope = _operation.get()
        if scope is not None:
            if scope.loaders is None:
                scope.loaders = Loaders(self.db, self.actor.org_id)
            return scope.loaders
        if self._loaders is None:
            self._loaders = Loaders(self.db, self.actor.org_id)
        return self._loaders

    def use_loaders(self, loaders: Loaders) -> None:
        """Resolve the current operation with `loaders` from here on: a subscription event's
        own, shared by every subscriber it is delivered to, so that what they all read of it
        is read once (and nothing an earlier event cached is served)."""
        scope = _operation.get()
        if scope is not None:
            scope.loaders = loaders
        else:
            self._loaders = loaders


Info = _Info[Context, None]
