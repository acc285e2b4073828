"""GET /imports/{id}/errors.csv: an import's errors as a spreadsheet, for the person who
fixes the file. Authenticated as the API is (a bearer token; TEACHER, ADMIN, INTEGRATION).

Cells a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) are written with a leading apostrophe, as OWASP advises: a rejected value from an
uploaded file must not become a formula on the reader's machine."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.auth.http import caller_or_refusal
from app.auth.service import Authenticator
from app.core.errors import ServiceError
from app.db import Database
from app.graphql.permissions import STAFF
from app.graphql.relay import parse_id
from app.imports import service

HEADER = ("file", "row", "column", "value", "message", "code")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _line(values: tuple[object, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell(v) for v in values])
    return buffer.getvalue()


def error_report(db: Database, auth: Authenticator) -> Callable[[Request], Awaitable[Response]]:
    """The route's endpoint."""

    async def endpoint(request: Request) -> Response:
        actor = await caller_or_refusal(auth, request, STAFF)
        if isinstance(actor, Response):
            return actor
        try:
            job_id = parse_id(request.path_params["id"], "ImportJob", "id")
        except ServiceError:
            return JSONResponse({"error": "not found"}, status_code=404)
        async with db.transaction(actor.org_id) as session:
            job = await service.get(session, org_id=actor.org_id, job_id=job_id)
        if job is None:
            return JSONResponse({"error": "not found"}, status_code=404)

        async def lines() -> AsyncIterator[str]:
            yield "\ufeff" + _line(HEADER)  # the BOM: spreadsheets then read it as UTF-8
            async with db.transaction(actor.org_id) as session:
                async for e in service.all_errors(session, org_id=actor.org_id, job_id=job_id):
                    yield _line((e.file, e.row, e.column, e.value, e.message, e.code))

        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"',
                "Cache-Control": "no-store",
            },
        )

    return endpoint
