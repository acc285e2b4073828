"""/graphql: Strawberry's ASGI view with our door.

- HTTP follows GraphQL over HTTP: `application/json` by default, and
  `application/graphql-response+json` when the client's Accept prefers it, with its status
  codes (400 and no `data` entry for a request error: parse, validation, variable coercion,
  a refused cost). A malformed request (bad JSON, parameters of the wrong type, several
  operations and no `operationName`) is a 400 in either media type.
- Bearer-token auth: 401 without a valid token (the GraphiQL page itself loads without one);
  WebSockets authenticate in connection_init (on_ws_connect); their lifetime and freshness
  rules are in app.graphql.sockets.
- GraphiQL is served from vendored files (app/static/graphiql), never a CDN.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from app.auth.principal import Principal
from app.auth.service import Authenticator
from app.auth.tokens import AuthUnavailable, InvalidToken
from app.config import Settings
from app.db import Database
from app.events.live import LiveHub
from app.graphql.compiled.cache import plan_cache
from app.graphql.compiled.extension import encode_response
from app.graphql.compiled.http import FastReads, is_json_post
from app.graphql.context import Context
from app.graphql.events.encoding import message_text
from app.graphql.fast_mutations import FastMutations
from app.graphql.permissions import IMPORTERS
from app.graphql.sockets import LegacyWSHandler, TransportWSHandler, bounded_messages
from app.logs import current_request
from app.queue import JobQueue
from app.ratelimit import RateLimiter

JSON = "application/json"
PREFLIGHT_HEADERS = ("graphql-require-preflight", "apollo-require-preflight")
# How many uploads (startImport's files) one process reads at a time.
UPLOADS_AT_ONCE = 4


def _is_multipart(request: Request) -> bool:
    return request.method == "POST" and request.headers.get("content-type", "").lower().startswith(
        "multipart/"
    )


GRAPHQL_RESPONSE = "application/graphql-response+json"

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS_DIR = STATIC_DIR / "graphiql"
# Outside /graphql: the security headers mark every /graphql answer no-store.
ASSETS_PATH = "/static/graphiql"


class Unauthorized(Exception):
    pass


class Unavailable(Exception):
    def __init__(self, error_id: str) -> None:
        super().__init__(f"Authentication is unavailable; try again (errorId {error_id})")


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"Rate limit {limit} exceeded; retry in {retry_after} s")
        self.retry_after = retry_after


# --- media types and status codes -------------------------------------------------------


@lru_cache(maxsize=64)  # clients send a handful of distinct Accept headers
def response_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when Accept ranks it at least as high as
    `application/json` (exact types beat `application/*` and `*/*`), else `application/json`
    — also for a missing Accept or one naming neither, as the spec allows."""
    ranks: dict[str, float] = {}
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))

    def rank(media: str) -> float:
        for candidate in (media, media.split("/")[0] + "/*", "*/*"):
            if candidate in ranks:
                return ranks[candidate]
        return 0.0

    preferred = rank(GRAPHQL_RESPONSE)
    if GRAPHQL_RESPONSE in ranks and preferred > 0 and preferred >= rank(JSON):
        return GRAPHQL_RESPONSE
    return JSON


def request_error_status(result: ExecutionResult) -> int | None:
    """The status of a result without data (a request error), None for an executed one.

    Field errors carry a path, even when one nulls the whole `data`; errors raised before
    execution (parse, validation, variable coercion, limits) do not."""
    if result.data is not None or not result.errors:
        return None
    if any(error.path for error in result.errors):
        return None
    # Masked by Schema.process_errors: ours, not the caller's.
    if any(
        (error.extensions or {}).get("code") == "INTERNAL_SERVER_ERROR" for error in result.errors
    ):
        return 500
    return 400


def error_response(
    message: str,
    status: int,
    media_type: str,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return JSONResponse(
        {"errors": [error]}, status_code=status, headers=headers, media_type=media_type
    )


# A document is parsed here only to count its operations: cached, as the schema's parser
# cache is, for the documents clients send over and over; a big one is not kept.
_COUNT_CACHE_MAX_CHARS = 64 * 1024


@lru_cache(maxsize=512)
def _cached_operation_count(query: str, max_tokens: int) -> int:
    return _operation_count(query, max_tokens)


def _operation_count(query: str, max_tokens: int) -> int:
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return 0  # the schema answers the syntax error (or the token limit) itself
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def operation_count(query: str, max_tokens: int) -> int:
    if len(query) > _COUNT_CACHE_MAX_CHARS:
        return _operation_count(query, max_tokens)
    return _cached_operation_count(query, max_tokens)


def _name_caller(principal: Principal | None) -> None:
    entry = current_request()
    if entry is not None and principal is not None:
        entry.org = principal.org_slug
        entry.role = principal.role.value


# --- GraphiQL -----------------------------------------------------------------------------


class VendoredAssets(StaticFiles):
    """The vendored GraphiQL files. Their paths carry their versions, so a browser may
    keep them for a year; the content types do not depend on the host's mime.types."""

    _TYPES = {
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
    }

    def file_response(
        self,
        full_path: Any,
        stat_result: Any,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
        content_type = self._TYPES.get(Path(str(full_path)).suffix)
        if content_type is not None and response.status_code == 200:
            response.headers["content-type"] = content_type
        return response


def graphiql_assets() -> VendoredAssets:
    return VendoredAssets(directory=ASSETS_DIR)


@lru_cache(maxsize=1)
def _graphiql_template() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


# --- the view -----------------------------------------------------------------------------


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def encode_json(self, data: object) -> str:
        """Compiled root fields arrive as Postgres' JSON text: spliced in, never re-parsed;
        a subscription result shared by many sockets is encoded once for all of them."""
        return message_text(data, encode_response)

    def __init__(
        self,
        *,
        schema: BaseSchema,
        settings: Settings,
        db: Database,
        auth: Authenticator,
        rate_limiter: RateLimiter | None = None,
        live: LiveHub | None = None,
        queue: JobQueue | None = None,
    ) -> None:
        # Multipart uploads (startImport) only with a preflight header: see parse_multipart.
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            multipart_uploads_enabled=True,
        )
        self.queue = queue
        self._uploads_at_once = asyncio.Semaphore(UPLOADS_AT_ONCE)
        self.settings = settings
        self.live = live
        self.db = db
        self.auth = auth
        self.rate_limiter = rate_limiter
        self.fast_reads = (
            FastReads(plan_cache(schema), db, settings)
            if settings.compiled_reads and isinstance(schema, strawberry.Schema)
            else None
        )
        self.fast_mutations = (
            FastMutations(
                schema,
                Context(
                    db=db,
                    settings=settings,
                    principal=None,
                    rate_limiter=rate_limiter,
                    live=live,
                    queue=queue,
                ),
            )
            if isinstance(schema, strawberry.Schema)
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            receive, send = bounded_messages(
                receive, send, self.settings.max_ws_message_bytes, self.settings.max_json_depth
            )
            await super().__call__(scope, receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - Starlette routes only these here
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media_type = response_media_type(request.headers.get("accept"))
        response: Response | None = None
        try:
            if (self.fast_reads or self.fast_mutations) and is_json_post(request):
                principal = await self.authorize(request)
                request.state.principal = principal
                if self.fast_reads is not None:
                    response = await self.fast_reads.answer(request, principal, media_type)
                if response is None and self.fast_mutations is not None:
                    response = await self.fast_mutations.answer(
                        request, principal, media_type, self.encode_json
                    )
            elif _is_multipart(request):
                response = await self._upload(request, media_type)
            if response is None:
                response = await self.run(request)
        except HTTPException as exc:
            response = error_response(exc.reason, exc.status_code, media_type)
        except Unauthorized as exc:
            response = error_response(
                str(exc),
                401,
                media_type,
                code="UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="schoolgraph"'},
            )
        except Unavailable as exc:
            response = error_response(
                str(exc), 503, media_type, code="SERVICE_UNAVAILABLE", headers={"Retry-After": "1"}
            )
        except RateLimited as exc:
            response = error_response(
                str(exc),
                429,
                media_type,
                code="RATE_LIMITED",
                headers={"Retry-After": str(exc.retry_after)},
            )
        finally:
            await request.close()  # a multipart request's spooled files, read or not
        await response(scope, receive, send)

    async def _upload(self, request: Request, media_type: str) -> Response:
        """A multipart request (file uploads) is for the roles that may upload, checked
        before the form is read: no one else can make the API spool a file to disk. At most
        UPLOADS_AT_ONCE are read at a time in this process; the rest wait."""
        principal = await self.authorize(request)
        request.state.principal = principal
        if principal.role not in IMPORTERS:
            return error_response(
                "File uploads (startImport) are for roles " + ", ".join(r.value for r in IMPORTERS),
                403,
                media_type,
                code="FORBIDDEN",
            )
        async with self._uploads_at_once:
            return await self.run(request)

    # --- auth -------------------------------------------------------------------------

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(
            db=self.db,
            settings=self.settings,
            principal=None,
            request=request,
            response=response,
            rate_limiter=self.rate_limiter,
            live=self.live,
            queue=self.queue,
        )
        if isinstance(request, WebSocket):
            return context
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return context
        # The fast lane has already authorized a request it handed on.
        context.principal = getattr(request.state, "principal", None) or await self.authorize(
            request
        )
        return context

    async def authorize(self, request: Request) -> Principal:
        """The caller of an HTTP request, within their rate limit."""
        try:
            principal = await self.auth.authenticate(request.headers.get("authorization"))
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        except AuthUnavailable as exc:
            raise Unavailable(exc.error_id) from exc
        _name_caller(principal)
        if self.rate_limiter is not None:
            verdict = await self.rate_limiter.check(f"{principal.org_slug}:{principal.sub}")
            if not verdict.allowed:
                raise RateLimited(verdict.retry_after, verdict.limit)
        return principal

    async def on_ws_connect(self, context: Context) -> Any:
        params: Mapping[str, Any] = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not header and isinstance(params.get("token"), str):
            header = f"Bearer {params['token']}"
        try:
            context.principal = await self.auth.authenticate(
                header if isinstance(header, str) else None
            )
        except InvalidToken as exc:
            raise ConnectionRejectionError({"reason": str(exc)}) from exc
        except AuthUnavailable as exc:
            raise ConnectionRejectionError(
                {"reason": "authentication is unavailable", "errorId": exc.error_id}
            ) from exc
        _name_caller(context.principal)
        return await super().on_ws_connect(context)

    # --- GraphQL over HTTP ------------------------------------------------------------

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # a list is a batch, refused by the base
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """A multipart request (the GraphQL multipart request spec: file uploads) must carry
        a preflight header, as Apollo requires: a browser sends a cross-site form without
        one, so no other site can make a signed-in user's browser start an import."""
        if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
            raise HTTPException(
                400,
                "A multipart request needs a non-empty GraphQL-Require-Preflight (or "
                "Apollo-Require-Preflight) header, so that no other site can send it",
            )
        return await super().parse_multipart(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData):
            name: object = data.operation_name
            if name is not None and not isinstance(name, str):
                raise HTTPException(
                    400,
                    "The GraphQL operation's `operationName` must be a string or null, "
                    "if provided.",
                )
            if (
                name is None
                and isinstance(data.query, str)
                and operation_count(data.query, self.settings.max_tokens) > 1
            ):
                raise HTTPException(
                    400,
                    "The document has several operations: name the one to run in `operationName`.",
                )
        return data

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        if sub_response.media_type == GRAPHQL_RESPONSE:
            status = request_error_status(result)
            if status is not None:
                sub_response.status_code = status
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if (
            response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE
            and request_error_status(result) is not None
        ):
            response.pop("data", None)  # a request error has no data entry at all
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = GRAPHQL_RESPONSE
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        assets = request.scope.get("root_path", "") + ASSETS_PATH
        return HTMLResponse(_graphiql_template().replace("{{assets}}", assets))
