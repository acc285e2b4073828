"""The Starlette application: /graphql (HTTP, GraphiQL, WebSocket), health and metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
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
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from app.auth.service import Authenticator
from app.auth.tokens import InvalidToken, TokenVerifier
from app.config import Settings, get_settings
from app.db import Database, create_engine
from app.graphql.context import Context
from app.graphql.schema import build_schema
from app.metrics import MetricsMiddleware

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: Authenticator
    redis: redis.Redis


class Unauthorized(Exception):
    pass


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with bearer-token auth: HTTP 401 without a valid token (the
    GraphiQL page itself loads without one); WebSockets authenticate in connection_init."""

    def __init__(self, services: Services) -> None:
        super().__init__(build_schema(services.settings), graphql_ide="graphiql")
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Unauthorized as exc:
            response = JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="schoolgraph"'},
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
        return await super().on_ws_connect(context)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        async with services.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    try:
        await services.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        log.warning("readiness: redis unreachable: %s", type(exc).__name__)
        checks["redis"] = "unreachable"
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
    if secret and len(secret.encode()) < 32:
        log.warning("JWT_SECRET is shorter than 32 bytes; use a longer random secret")
    db = Database(create_engine(settings, db_url), settings.db_app_role)
    verifier = TokenVerifier(
        secret=secret,
        jwks_url=settings.jwt_jwks_url,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    services = Services(
        settings=settings,
        db=db,
        auth=Authenticator(verifier, db),
        redis=redis.Redis.from_url(r_url),
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
        middleware=[Middleware(MetricsMiddleware)],
    )
    app.state.services = services
    return app
