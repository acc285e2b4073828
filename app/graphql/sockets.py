"""WebSocket handlers for /graphql (graphql-transport-ws and the legacy graphql-ws).

A socket gets one GraphQL context for its whole life (Strawberry builds it at the handshake,
and on_ws_connect puts the caller in it), so two things are ours to add:
- a socket lives no longer than its token: an operation after `exp` is refused and the socket
  closed with 4403, and a timer closes it at `exp` even mid-subscription; the client renews
  by reconnecting with a fresh token;
- every operation runs in an operation scope of its own (app.graphql.context), so its
  loaders, and their caches, are never those of an earlier or concurrent operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from starlette.types import Message, Receive, Send
from starlette.websockets import WebSocketDisconnect
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyConnectionInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from app.graphql.context import Context, operation_scope
from app.middleware import json_depth_exceeds

# graphql-transport-ws's "Forbidden": the token that opened the socket is no longer valid.
TOKEN_EXPIRED_CODE = 4403
TOKEN_EXPIRED = "token expired"


def _token_expired(context: Context) -> bool:
    return context.principal is not None and context.principal.expired()


async def _rate_limited(context: Context) -> dict[str, Any] | None:
    """The error payload for an operation over the caller's rate limit, or None."""
    limiter, who = context.rate_limiter, context.principal
    if limiter is None or who is None:
        return None
    verdict = await limiter.check(f"{who.org_slug}:{who.sub}")
    if verdict.allowed:
        return None
    return {
        "message": f"Rate limit {verdict.limit} exceeded; retry in {verdict.retry_after} s",
        "extensions": {"code": "RATE_LIMITED", "retryAfter": verdict.retry_after},
    }


async def _close(websocket: AsyncWebSocketAdapter, code: int, reason: str) -> None:
    # The client may have gone, or the socket been closed, at the same moment.
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=code, reason=reason)


class _ExpiryWatch:
    """Closes a socket with 4403 when the token that opened it expires, so a long
    subscription does not outlive its token; the client renews by reconnecting."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None

    def start(self, context: Context, websocket: AsyncWebSocketAdapter) -> None:
        principal = context.principal
        if principal is None or principal.expires_at is None:
            return
        expires_at = principal.expires_at

        async def close_at_expiry() -> None:
            await asyncio.sleep(max(0.0, expires_at - time.time()))
            await _close(websocket, TOKEN_EXPIRED_CODE, TOKEN_EXPIRED)

        self.task = asyncio.create_task(close_at_expiry())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with token expiry and an operation scope per operation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expiry = _ExpiryWatch()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.expiry.task is None:
            self.expiry.start(self.context, self.websocket)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and _token_expired(self.context):
            await _close(self.websocket, TOKEN_EXPIRED_CODE, TOKEN_EXPIRED)
            return
        if self.connection_acknowledged and (refused := await _rate_limited(self.context)):
            await self.websocket.send_json(
                {"id": message["id"], "type": "error", "payload": [refused]}
            )
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # The operation's own task: the scope is seen by it alone.
        with operation_scope():
            await super().run_operation(operation)

    async def shutdown(self) -> None:
        await self.expiry.stop()
        await super().shutdown()


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy graphql-ws protocol, with the same expiry and scope rules."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expiry = _ExpiryWatch()

    async def handle_connection_init(self, message: LegacyConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.expiry.task is None:
            self.expiry.start(self.context, self.websocket)

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged and _token_expired(self.context):
            await _close(self.websocket, TOKEN_EXPIRED_CODE, TOKEN_EXPIRED)
            return
        if self.connection_acknowledged and (refused := await _rate_limited(self.context)):
            await self.websocket.send_json(
                {"id": message["id"], "type": "error", "payload": refused}
            )
            return
        await super().handle_start(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        with operation_scope():
            await super().handle_async_results(operation_id, query, operation_name, variables)

    async def cleanup(self) -> None:
        await self.expiry.stop()
        await super().cleanup()


def bounded_messages(
    receive: Receive, send: Send, max_bytes: int, max_json_depth: int
) -> tuple[Receive, Send]:
    """A WebSocket message over `max_bytes` closes the socket with 1009 (message too big); one
    nested deeper than `max_json_depth` with 1007 (invalid payload), before it is parsed."""
    closed = False

    async def close(code: int, reason: str) -> Message:
        nonlocal closed
        closed = True
        await send({"type": "websocket.close", "code": code, "reason": reason})
        return {"type": "websocket.disconnect", "code": code}

    async def bounded_receive() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text") or ""
            if len(text) + len(message.get("bytes") or b"") > max_bytes:
                return await close(1009, "message too big")
            if text and json_depth_exceeds(text, max_json_depth):
                return await close(1007, "message nested too deeply")
        return message

    async def guarded_send(message: Message) -> None:
        if not closed:  # the app may try to answer or close a socket we have closed
            await send(message)

    return bounded_receive, guarded_send
