"""/dashboard/: the live dashboard page (app/static/dashboard): static files, no build step,
nothing loaded from a CDN. Its own files are revalidated on every load (no-cache) so a new
release is picked up at once; the CSP allows only this origin (and its WebSocket)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "dashboard"
PATH = "/dashboard"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class DashboardFiles(StaticFiles):
    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        suffix = Path(str(full_path)).suffix
        if suffix in _TYPES and response.status_code == 200:
            response.headers["content-type"] = _TYPES[suffix]
        response.headers["cache-control"] = "no-cache"
        response.headers["content-security-policy"] = CSP
        return response


def dashboard_files() -> DashboardFiles:
    return DashboardFiles(directory=DIRECTORY, html=True)
