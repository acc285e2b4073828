"""POST /webhooks/{key}: the inbound webhook route (app.integrations.inbound)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.db import Database
from app.integrations import inbound


def inbound_route(db: Database, max_bytes: int) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return JSONResponse({"error": f"body over {max_bytes} bytes"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_bytes:
                return JSONResponse({"error": f"body over {max_bytes} bytes"}, status_code=413)
        answer = await inbound.receive(
            db, request.path_params["key"], bytes(body), dict(request.headers)
        )
        return JSONResponse(answer.body, status_code=answer.status)

    return receive
