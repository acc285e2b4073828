"""The Starlette application: /graphql (HTTP, GraphiQL, WebSocket), health and metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from app.auth.service import Authenticator
from app.auth.tokens import InvalidToken, TokenVerifier
from app.config import Settings, get_settings
from app.db import Database
from app.graphql.context import Context
from app.graphql.schema import build_schema
from app.logs import RequestLogMiddleware, configure_logging, current_request
from app.metrics import MetricsMiddleware
from app.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from app.ratelimit import RateLimiter

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: Authenticator
    redis: redis.Redis
    rate_limiter: RateLimiter | None = None


class Unauthorized(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(f"Rate limit {limit} exceeded; retry in {retry_after} s")
        self.retry_after = retry_after


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with bearer-token auth: HTTP 401 without a valid token (the
    GraphiQL page itself loads without one); WebSockets authenticate in connection_init."""

    def __init__(self, services: Services) -> None:
        super().__init__(
            build_schema(services.settings),
            graphql_ide="graphiql" if services.settings.graphiql else None,
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            receive, send = _bounded_messages(
                receive, send, self.services.settings.max_ws_message_bytes
            )
        try:
            await super().__call__(scope, receive, send)
        except Unauthorized as exc:
            response = JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="schoolgraph"'},
            )
            await response(scope, receive, send)
        except RateLimited as exc:
            response = JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "RATE_LIMITED"}}]},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
            await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        s = self.services
        context = Context(
            db=s.db, settings=s.settings, principal=None, request=request, response=response
        )
        if isinstance(request, WebSocket):
            return context
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return context
        try:
            context.principal = await s.auth.authenticate(request.headers.get("authorization"))
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        _name_caller(context)
        if s.rate_limiter is not None:
            who = context.principal
            verdict = await s.rate_limiter.check(f"{who.org_slug}:{who.sub}")
            if not verdict.allowed:
                raise RateLimited(verdict.retry_after, verdict.limit)
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        params: Mapping[str, Any] = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not header and params.get("token"):
            header = f"Bearer {params['token']}"
        try:
            context.principal = await self.services.auth.authenticate(header)
        except InvalidToken as exc:
            raise ConnectionRejectionError({"reason": str(exc)}) from exc
        _name_caller(context)
        return await super().on_ws_connect(context)


def _name_caller(context: Context) -> None:
    entry = current_request()
    if entry is not None and context.principal is not None:
        entry.org = context.principal.org_slug
        entry.role = context.principal.role.value


def _bounded_messages(receive: Receive, send: Send, max_bytes: int) -> tuple[Receive, Send]:
    """A WebSocket message over `max_bytes` closes the socket with 1009 (message too big)."""
    closed = False

    async def bounded_receive() -> Message:
        nonlocal closed
        message = await receive()
        if message["type"] == "websocket.receive":
            size = len(message.get("text") or "") + len(message.get("bytes") or b"")
            if size > max_bytes:
                closed = True
                await send({"type": "websocket.close", "code": 1009, "reason": "message too big"})
                return {"type": "websocket.disconnect", "code": 1009}
        return message

    async def guarded_send(message: Message) -> None:
        if not closed:  # the app may try to answer or close a socket we have closed
            await send(message)

    return bounded_receive, guarded_send


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _probe_database(services: Services) -> None:
    async with services.db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _probe_redis(services: Services) -> None:
    await services.redis.ping()


async def _check(name: str, probe: Coroutine[Any, Any, None], seconds: float) -> str:
    try:
        async with asyncio.timeout(seconds):
            await probe
        return "ok"
    except TimeoutError:
        log.warning("readiness: %s did not answer in %.1f s", name, seconds)
        return "timeout"
    except Exception as exc:
        log.warning("readiness: %s unreachable: %s", name, type(exc).__name__)
        return "unreachable"


async def readyz(request: Request) -> Response:
    """503 within READINESS_TIMEOUT when a server is down or hangs (both probed at once)."""
    services: Services = request.app.state.services
    timeout = services.settings.readiness_timeout
    database, redis_state = await asyncio.gather(
        _check("database", _probe_database(services), timeout),
        _check("redis", _probe_redis(services), timeout),
    )
    checks = {"database": database, "redis": redis_state}
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
    )


async def metrics(request: Request) -> Response:
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)


def create_app(
    *,
    settings: Settings | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    jwt_secret: str | None = None,
) -> Starlette:
    """The ASGI app. URLs and secret default to the settings (the environment)."""
    settings = settings or get_settings()
    db_url = database_url or settings.database_url
    r_url = redis_url or settings.redis_url
    secret = jwt_secret or settings.jwt_secret
    if not db_url or not r_url:
        raise RuntimeError("DATABASE_URL and REDIS_URL are required (or use `schoolgraph dev`)")
    configure_logging(settings.log_format or "json", settings.log_level)
    if secret and len(secret.encode()) < 32:
        log.warning("JWT_SECRET is shorter than 32 bytes; use a longer random secret")
    db = Database.connect(settings, db_url)
    verifier = TokenVerifier(
        secret=secret,
        jwks_url=settings.jwt_jwks_url,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    # Bounded waits: a hung Redis must not hang the readiness probe or a request.
    redis_client = redis.Redis.from_url(
        r_url,
        socket_timeout=settings.readiness_timeout,
        socket_connect_timeout=settings.readiness_timeout,
    )
    services = Services(
        settings=settings,
        db=db,
        auth=Authenticator(verifier, db),
        redis=redis_client,
        rate_limiter=RateLimiter(settings.rate_limit, redis_client)
        if settings.rate_limit
        else None,
    )
    view = GraphQLView(services)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await services.redis.aclose()
            await db.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
        # Outermost first: every answer, the 413 included, is logged, timed and gets headers.
        middleware=[
            Middleware(RequestLogMiddleware),
            Middleware(MetricsMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
    )
    app.state.services = services
    return app
