"""Prometheus metrics: request latency by route, and the domain events worth graphing."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Histogram(
    "schoolgraph_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
READS = Counter(
    "schoolgraph_graphql_reads_total",
    "GraphQL operations by the read path that answered them (compiled, resolved, mixed) and "
    "whether the compiled plan came from the cache",
    ["path", "plan_cached"],
)
WRITES = Counter(
    "schoolgraph_graphql_mutations_total",
    "GraphQL mutations by the path that ran them: the mutation lane (a document Strawberry "
    "has run cleanly for the role) or Strawberry",
    ["path"],
)
INCIDENTS_LOGGED = Counter(
    "schoolgraph_incidents_logged_total", "Incidents logged (idempotent resends excluded)", ["kind"]
)

_KNOWN_ROUTES = {"/graphql", "/healthz", "/readyz", "/metrics"}


class MetricsMiddleware:
    """Times every HTTP request; unknown paths share one label so cardinality stays bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            HTTP_REQUESTS.labels(
                scope.get("method", ""), path if path in _KNOWN_ROUTES else "other", str(status)
            ).observe(time.perf_counter() - start)


# The live subscriptions (app.events.live).
SUBSCRIPTIONS = Gauge(
    "schoolgraph_subscriptions_active", "Open GraphQL subscriptions by field", ["name"]
)
EVENTS_WRITTEN = Counter(
    "schoolgraph_events_written_total", "Events committed to the event log", ["topic"]
)
EVENTS_PUBLISHED = Counter(
    "schoolgraph_events_published_total", "Broadcast hints published after a commit"
)
PUBLISH_FAILURES = Counter(
    "schoolgraph_event_publish_failures_total",
    "Broadcast hints that failed to publish (the mutation succeeded; subscribers catch up "
    "from the event log)",
)
EVENTS_DELIVERED = Counter(
    "schoolgraph_events_delivered_total", "Items delivered to subscribers", ["name"]
)
REPLAYED = Histogram(
    "schoolgraph_subscription_replay_events",
    "Events replayed to a subscription that resumed with since",
    buckets=(0, 1, 10, 100, 1_000, 10_000, 100_000),
)
OVERFLOWS = Counter(
    "schoolgraph_subscription_overflows_total",
    "Subscriptions ended because their client fell too far behind",
)
LIVE_FEEDS = Gauge(
    "schoolgraph_live_feeds",
    "Live feeds this process follows (one per org and scope, shared by its subscribers)",
)
FEED_READS = Counter(
    "schoolgraph_live_feed_reads_total", "Event-log reads by the live feeds (shared per scope)"
)

# The database (app.db): every statement sent, by the pool that sent it ("orm": the
# SQLAlchemy engine; "read": the compiled read path's asyncpg pool), the transaction's scope
# (set_config) included; not BEGIN, COMMIT or ROLLBACK, nor the pool's liveness pings. Its
# rate over a request or event rate says how many statements each costs.
DB_STATEMENTS = Counter(
    "schoolgraph_db_statements_total",
    "SQL statements sent to Postgres (BEGIN/COMMIT/ROLLBACK and pool pings not counted)",
    ["pool"],
)


# Imports (app.imports).
IMPORT_JOBS = Counter(
    "schoolgraph_import_jobs_total",
    "Import jobs by kind and the status they reached",
    ["kind", "status"],
)
IMPORT_ROWS = Counter(
    "schoolgraph_import_rows_total",
    "Imported rows by kind and outcome (inserted, updated, unchanged, skipped, failed)",
    ["kind", "outcome"],
)
IMPORT_SECONDS = Histogram(
    "schoolgraph_import_duration_seconds",
    "How long an import job ran (one run; a resumed job's runs each count)",
    ["kind"],
    buckets=(1, 5, 10, 30, 60, 300, 900, 3600),
)
