"""A small GraphQL-over-WebSocket client speaking both protocols, for the live tests and
the fan-out benchmark: graphql-transport-ws (subscribe/next/error/complete) and the legacy
graphql-ws (start/data/error/complete, with "ka" keep-alives)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import websockets

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)


@dataclass
class Subscription:
    ws: Any
    protocol: str
    op_id: str = "1"
    ended: bool = False
    backlog: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        url: str,
        token: str,
        query: str,
        variables: dict[str, Any] | None = None,
        protocol: str = TRANSPORT_WS,
    ) -> Subscription:
        ws = await websockets.connect(url, subprotocols=[protocol], max_queue=None)  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        while True:
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if ack["type"] != "ka":
                break
        assert ack["type"] == "connection_ack", ack
        sub = cls(ws, protocol)
        start = "subscribe" if protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await ws.send(json.dumps({"id": sub.op_id, "type": start, "payload": payload}))
        return sub

    async def next(self, wait: float = 10) -> dict[str, Any]:
        """The next result's payload ({data, errors}); errors of an `error` message as
        {"errors": [...]}; {"complete": True} when the server completed it."""
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            kind = message.get("type")
            if kind == "ka":
                continue
            if kind in ("next", "data"):
                return dict(message["payload"])
            if kind == "error":
                errors = message["payload"]
                self.ended = True
                return {"errors": errors if isinstance(errors, list) else [errors]}
            if kind == "complete":
                self.ended = True
                return {"complete": True}
            raise AssertionError(f"unexpected message {message}")

    async def data(self, wait: float = 10) -> dict[str, Any]:
        """The next result's data, asserting it has no errors."""
        payload = await self.next(wait)
        assert not payload.get("errors") and "data" in payload, payload
        return dict(payload["data"])

    async def quiet(self, seconds: float = 0.5) -> None:
        """Assert nothing arrives for `seconds`."""
        try:
            message = await asyncio.wait_for(self.next(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected nothing, got {message}")

    async def close(self) -> None:
        await self.ws.close()
