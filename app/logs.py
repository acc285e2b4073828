"""Logs: one line per request (JSON in production), never names, notes, variables or tokens.

The request line carries the request id (a client's `X-Request-ID` when it is sane, else a
new one, echoed back), the operation's name and type, the caller's org slug and role, the
status, the duration and the ids of any internal errors, whose detail is logged on its own
line under the same id.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("schoolgraph.request")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_HANDLER_NAME = "schoolgraph"


@dataclass
class RequestEntry:
    request_id: str
    method: str
    path: str
    operation: str | None = None
    operation_type: str | None = None
    org: str | None = None
    role: str | None = None
    error_ids: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    read_path: str | None = None  # compiled, resolved or mixed (app.graphql.compiled)
    plan_cached: bool | None = None
    write_path: str | None = None  # a mutation's: lane or strawberry (app.graphql.fast_mutations)


_current: ContextVar[RequestEntry | None] = ContextVar("schoolgraph_request", default=None)


def current_request() -> RequestEntry | None:
    return _current.get()


def new_error_id() -> str:
    return uuid.uuid4().hex[:16]


INTERNAL_ERROR = "Internal server error"
_errors = logging.getLogger("schoolgraph.errors")


def log_internal(exc: BaseException, *, where: str) -> str:
    """Log an exception of ours under a new error id (also put on the request's line) and
    return the id, for the client's `Internal server error` answer. What is logged is
    `describe(exc)` and the stack's frames: never an exception's text from the database
    driver, which quotes row values (`DETAIL: Failing row contains (...)`, a bad argument)."""
    error_id = new_error_id()
    _errors.error(
        "internal error %s at %s: %s",
        error_id,
        where,
        describe(exc),
        extra={"error_id": error_id, "stack": "".join(traceback.format_tb(exc.__traceback__))},
    )
    entry = current_request()
    if entry is not None:
        entry.error_ids.append(error_id)
    return error_id


def describe(exc: BaseException) -> str:
    """The exception chain without data: for database errors the class, SQLSTATE, the table,
    column or constraint and the SQL statement (its parameters are placeholders); for the
    others their class and message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(_describe_one(current))
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _describe_one(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if name.startswith(("asyncpg.", "sqlalchemy.")):
        details = [name]
        for attribute in ("sqlstate", "table_name", "column_name", "constraint_name"):
            value = getattr(exc, attribute, None)
            if isinstance(value, str) and value:
                details.append(f"{attribute}={value}")
        statement = getattr(exc, "statement", None)
        if isinstance(statement, str):
            details.append(f"statement={' '.join(statement.split())[:2000]}")
        return " ".join(details)
    return f"{name}: {str(exc)[:500]}"


def configure_logging(fmt: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, arq's) to stderr in one format. Idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Uvicorn's access log writes query strings verbatim (names in filters, ?token=):
    # our request line replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class TextFormatter(logging.Formatter):
    """`time level logger message key=value …` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items() if v not in (None, []))
        return line


class RequestLogMiddleware:
    """Gives every HTTP request and WebSocket an id and writes its one log line at the end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        entry = RequestEntry(request_id, scope.get("method", "WS"), scope.get("path", ""))
        token = _current.set(entry)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close" and status != 101:
                status = 403
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
            if entry.path not in _QUIET_PATHS:
                log.info("request", extra=_fields(entry, status, time.perf_counter() - start))


# Probes run every few seconds; their lines would drown the rest.
_QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


def _fields(entry: RequestEntry, status: int, seconds: float) -> dict[str, Any]:
    return {
        "request_id": entry.request_id,
        "method": entry.method,
        "path": entry.path,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "operation": entry.operation,
        "operation_type": entry.operation_type,
        "org": entry.org,
        "role": entry.role,
        "error_ids": entry.error_ids,
        "error_codes": entry.error_codes,
        "read_path": entry.read_path,
        "plan_cached": entry.plan_cached,
        "write_path": entry.write_path,
    }


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))  # every byte is latin-1: never fails
    return None
