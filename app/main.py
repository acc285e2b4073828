"""The Starlette application: /graphql (HTTP, GraphiQL, WebSocket; see app.graphql.view),
the vendored GraphiQL assets, health and metrics."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as redis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from app.auth.service import Authenticator
from app.auth.tokens import TokenVerifier
from app.config import Settings, get_settings
from app.dashboard.page import PATH as DASHBOARD_PATH
from app.dashboard.page import dashboard_files
from app.db import Database
from app.events.live import LiveHub, publish_commits
from app.exports.http import student_export
from app.graphql.schema import build_schema
from app.graphql.view import ASSETS_PATH, GraphQLView, graphiql_assets
from app.imports.report import error_report
from app.integrations.flows import deliver_after_commit
from app.integrations.http import inbound_route
from app.logs import RequestLogMiddleware, configure_logging
from app.metrics import MetricsMiddleware
from app.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from app.queue import JobQueue
from app.ratelimit import RateLimiter
from app.records.http import file_download
from app.search.flows import index_after_commit

log = logging.getLogger(__name__)


GC_THRESHOLDS = (10_000, 10, 10)


@dataclass
class Services:
    settings: Settings
    db: Database
    auth: Authenticator
    redis: redis.Redis
    live: LiveHub
    queue: JobQueue
    rate_limiter: RateLimiter | None = None


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
    # The broadcast listener reconnects by itself; while it is down, subscriptions still
    # get every event (from the log, on the feeds' timer), only later.
    checks = {
        "database": database,
        "redis": redis_state,
        "broadcast": "ok" if services.live.connected else "unreachable",
    }
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "unavailable", "checks": checks},
        status_code=200 if ok else 503,
    )


async def metrics(request: Request) -> Response:
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)


def _cors(settings: Settings) -> list[Middleware]:
    """CORS_ORIGINS: which other origins' pages may call the API (none when unset)."""
    origins = settings.cors_origin_list
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            allow_credentials=settings.cors_allow_credentials,
            max_age=600,
        )
    ]


async def _to_dashboard(request: Request) -> Response:
    return RedirectResponse(DASHBOARD_PATH + "/")


def create_app(
    *,
    settings: Settings | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    jwt_secret: str | None = None,
    tune_gc: bool = False,
) -> Starlette:
    """The ASGI app. URLs and secret default to the settings (the environment); `tune_gc`
    is for a process that serves only this app (see `serve_app`)."""
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
    broadcast = publish_commits(
        db, settings.broadcast_url or r_url, timeout=settings.readiness_timeout
    )
    jobs = JobQueue(r_url)
    index_after_commit(db, jobs.enqueue)
    deliver_after_commit(db, jobs.enqueue)
    live = LiveHub(
        db,
        broadcast,
        queue_size=settings.live_queue_size,
        poll_seconds=settings.live_poll_seconds,
        coalesce_seconds=settings.live_coalesce_seconds,
    )
    services = Services(
        settings=settings,
        db=db,
        auth=Authenticator(verifier, db),
        redis=redis_client,
        live=live,
        queue=jobs,
        rate_limiter=RateLimiter(settings.rate_limit, redis_client)
        if settings.rate_limit
        else None,
    )
    view = GraphQLView(
        schema=build_schema(settings),
        settings=settings,
        db=db,
        auth=services.auth,
        rate_limiter=services.rate_limiter,
        live=live,
        queue=services.queue,
    )
    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/imports/{id}/errors.csv", error_report(db, services.auth)),
        Route("/exports/students.{format}", student_export(db, services.auth)),
        Route("/files/{id}", file_download(db, services.auth)),
        Route(
            "/webhooks/{key}",
            inbound_route(db, settings.webhook_max_body_bytes),
            methods=["POST"],
        ),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, app=graphiql_assets(), name="graphiql-assets"))
    routes += [
        Route(DASHBOARD_PATH, _to_dashboard),
        Mount(DASHBOARD_PATH, app=dashboard_files(), name="dashboard"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await live.start()
        await services.queue.start()
        thresholds = gc.get_threshold()
        if tune_gc:
            # What start-up built (modules, the schema, the engine) lives as long as the
            # process: out of the collector's full scans, which otherwise walked it all,
            # pausing every subscriber 100-200 ms with a thousand subscriptions open. And
            # collect the young generation less often (Python's default is every 700
            # allocations): each subscription holds thousands of long-lived objects, and a
            # full scan of them was triggered every few seconds while subscribers came and
            # went.
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            if tune_gc:
                gc.unfreeze()
                gc.set_threshold(*thresholds)
            # The last commits' hints and jobs, before the broadcast (live) and Redis close.
            await db.settle()
            await live.stop()
            await services.queue.close()
            await services.redis.aclose()
            await db.dispose()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        # Outermost first: every answer, the 413 included, is logged, timed and gets headers.
        middleware=[
            *_cors(settings),
            Middleware(RequestLogMiddleware),
            Middleware(MetricsMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                max_json_depth=settings.max_json_depth,
                max_upload_bytes=settings.import_max_file_bytes,
            ),
        ],
    )
    app.state.services = services
    return app


def serve_app() -> Starlette:
    """The app as `schoolgraph serve` runs it (uvicorn's factory): the process is the app's
    alone, so the garbage collector is tuned for it (create_app's `tune_gc`)."""
    return create_app(tune_gc=True)
