"""GET /exports/students.csv and /exports/students.xlsx: the student export for a bearer
token of ADMIN, TEACHER or INTEGRATION (aides see no risk factors), filtered as `students`
is (classCode, yearGroup, campus, minRiskTier, nameContains in the query string)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.auth.http import caller_or_refusal
from app.auth.service import Authenticator
from app.db import Database
from app.exports import students as export
from app.graphql.permissions import STAFF
from app.students.service import StudentFilter

MEDIA = {
    export.ExportFormat.CSV: "text/csv; charset=utf-8",
    export.ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_INTS = {"yearGroup": (-1, 13), "minRiskTier": (1, 3)}


def _filter(request: Request) -> StudentFilter | str:
    """The query string's filter, or what is wrong with it."""
    q = request.query_params
    ints: dict[str, int | None] = {}
    for name, (low, high) in _INTS.items():
        raw = q.get(name)
        if raw is None or raw == "":
            ints[name] = None
            continue
        try:
            value = int(raw)
        except ValueError:
            return f"{name}: a whole number"
        if not low <= value <= high:
            return f"{name}: {low} to {high}"
        ints[name] = value
    for name in ("classCode", "campus", "nameContains"):
        if len(q.get(name) or "") > 200:
            return f"{name}: at most 200 characters"
    return StudentFilter(
        class_code=q.get("classCode") or None,
        year_group=ints["yearGroup"],
        campus=q.get("campus") or None,
        min_risk_tier=ints["minRiskTier"],
        name_contains=q.get("nameContains") or None,
    )


def student_export(db: Database, auth: Authenticator) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = await caller_or_refusal(auth, request, STAFF)
        if isinstance(actor, Response):
            return actor
        try:
            fmt = export.ExportFormat(request.path_params["format"].upper())
        except ValueError:
            return JSONResponse({"error": "csv or xlsx"}, status_code=404)
        flt = _filter(request)
        if isinstance(flt, str):
            return JSONResponse({"error": flt}, status_code=400)
        now = datetime.now(UTC)
        async with db.transaction(actor.org_id) as session:
            data = await export.rows(session, org_id=actor.org_id, flt=flt, now=now)
        body = export.as_csv(data) if fmt is export.ExportFormat.CSV else export.as_xlsx(data)
        name = f"students-{now:%Y%m%d}.{fmt.value.lower()}"
        return Response(
            body,
            media_type=MEDIA[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return endpoint
