"""GET /files/{id}: a generated file (a student's record, an IEP report) for the bearer
token of the one who asked for it, or of an ADMIN of the org; audited at each download.
404 for a file that is not there or not the caller's, 409 while it is being made, 410
once it has expired."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from app.auth.http import caller_or_refusal
from app.auth.service import Authenticator
from app.config import get_settings
from app.db import Database
from app.graphql.permissions import ALL_ROLES
from app.records import files

_STATUS = {"not found": 404, "not ready": 409, "gone": 410}


def file_download(db: Database, auth: Authenticator) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = await caller_or_refusal(auth, request, ALL_ROLES)
        if isinstance(actor, Response):
            return actor
        try:
            file_id = uuid.UUID(request.path_params["id"])
        except ValueError:
            return JSONResponse({"error": "not found"}, status_code=404)
        async with db.transaction(actor.org_id) as session:
            row = await files.for_download(
                session, actor=actor, file_id=file_id, now=datetime.now(UTC)
            )
            if isinstance(row, str):
                return JSONResponse({"error": row}, status_code=_STATUS[row])
            path, name, media = row.path, row.name, row.media_type
        assert path is not None
        target = files.disk_path(get_settings(), path)
        if not target.exists():  # removed by erasure or expiry since the row was read
            return JSONResponse({"error": "gone"}, status_code=410)
        return FileResponse(
            target,
            media_type=media or "application/octet-stream",
            filename=name or target.name,
            headers={"Cache-Control": "no-store"},
        )

    return endpoint
