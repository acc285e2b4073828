"""arq WorkerSettings. Jobs take ids, not payloads; their state lives in Postgres.

Search (`index_students` after a commit, `index_org` for a reindex) keeps documents fresh;
`sweep_search` queues every org with a missing or stale document every two minutes.

Imports (`run_import`) process a job's files in committed batches; `sweep_imports` hands
a job whose worker died (or that the queue lost) to a worker again every minute.

`ping` lets an operator check that a worker consumes the queue
(`arq workers.settings.WorkerSettings --check`). The risk sweep runs every 15 minutes and
when a worker starts; arq's `unique` keeps two workers from running a scheduled sweep at the
same moment (a start-up sweep is each worker's own), and the sweep is safe to run twice: it
recomputes only what is due, skipping rows locked by a concurrent change. Events older than
EVENT_RETENTION_DAYS are purged hourly.

What the worker's jobs commit reaches live subscribers as the API's mutations do: its
Database publishes each commit's event hints on BROADCAST_URL (default REDIS_URL). While
that server is away, subscribers still get those events from the log, on their feeds'
timer.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from arq import cron, func

from app import queue
from app.config import get_settings
from app.db import Database
from app.events.jobs import purge_events
from app.events.live import publish_commits
from app.imports.jobs import run_import, sweep_imports
from app.integrations.flows import deliver_after_commit
from app.integrations.jobs import deliver_webhook, sweep_sheets, sweep_webhooks, sync_sheet
from app.logs import configure_logging
from app.records.jobs import (
    apply_retention,
    build_iep_report,
    build_student_record,
    finish_erasure,
    sweep_files,
)
from app.risk.jobs import recompute_risk, risk_sweep
from app.search.flows import index_after_commit
from app.search.jobs import index_org, index_students, sweep_search


async def ping(ctx: dict[str, Any]) -> str:
    return "pong"


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError("the worker needs DATABASE_URL (or use `schoolgraph worker`)")
    configure_logging(settings.log_format or "json", settings.log_level)
    ctx["db"] = db = Database.connect(settings, settings.database_url)
    # What the worker's jobs write about students (imports) is indexed for search too.
    index_after_commit(db, partial(queue.enqueue, ctx["redis"]))
    # ... and the webhook deliveries they make (an imported negative incident) go out.
    deliver_after_commit(db, partial(queue.enqueue, ctx["redis"]))
    url = settings.effective_broadcast_url
    if url:
        ctx["broadcast"] = broadcast = publish_commits(db, url, timeout=settings.readiness_timeout)
        await broadcast.connect()
        await broadcast.wait_connected(2.0)  # publishes fail fast until it is up


async def shutdown(ctx: dict[str, Any]) -> None:
    if "db" in ctx:
        await ctx["db"].settle()  # the last commits' hints and jobs, before Redis closes
    if "broadcast" in ctx:
        await ctx["broadcast"].disconnect()
    if "http" in ctx:
        await ctx["http"].aclose()
    if "db" in ctx:
        await ctx["db"].dispose()


class WorkerSettings:
    functions = [
        ping,
        recompute_risk,
        # An import's batches commit as they go: a timeout or a killed worker loses at most
        # one batch, and the sweep (or arq's retry) resumes it after the last committed one.
        # keep_result=0: arq would refuse a job id whose result it keeps (an hour by
        # default), and the sweep hands a job out again under the id of its attempt.
        func(run_import, timeout=3600, max_tries=5, keep_result=0),
        # Search indexing: ids in, stale documents read from Postgres; keep_result=0 so an
        # org's job id (one at a time) can be queued again as soon as it ends.
        func(index_students, timeout=600, max_tries=3, keep_result=0),
        func(index_org, timeout=3600, max_tries=3, keep_result=0),
        # Webhooks: the retry schedule is the delivery row's (arq's own retries would expire
        # in a day); keep_result=0 so an attempt's id can be queued again by the sweep.
        func(deliver_webhook, timeout=120, max_tries=1, keep_result=0),
        # Google Sheets: a run is recorded in Postgres; the next is due after its interval.
        func(sync_sheet, timeout=1800, max_tries=1, keep_result=0),
        # Student records: the file's row says what to make; keep_result=0 so the sweep can
        # queue a lost one again under the same id.
        func(build_student_record, timeout=600, max_tries=3, keep_result=0),
        func(build_iep_report, timeout=900, max_tries=3, keep_result=0),
        func(finish_erasure, timeout=120, max_tries=3, keep_result=0),
    ]
    cron_jobs = [
        # Every ten minutes: expired downloads, erasures whose files are not yet verified
        # gone, file jobs the queue lost.
        cron(
            sweep_files, minute=set(range(0, 60, 10)), unique=True, timeout=300, run_at_startup=True
        ),
        # Daily, at night: each org's retention policy.
        cron(apply_retention, hour={3}, minute={17}, unique=True, timeout=3600),
        cron(risk_sweep, minute={0, 15, 30, 45}, unique=True, timeout=600, run_at_startup=True),
        # Hourly: a missed run only keeps events a little longer.
        cron(purge_events, minute={7}, unique=True, timeout=600),
        # Every minute: imports whose worker died, or that the queue lost.
        cron(sweep_imports, unique=True, timeout=60, run_at_startup=True),
        # Every two minutes: documents missing or stale (a lost job, a model switch).
        # Every minute: webhook deliveries due and not being posted (lost jobs, a Valkey
        # outage, a worker that died holding one).
        cron(sweep_webhooks, unique=True, timeout=60, run_at_startup=True),
        # Every five minutes: Google Sheets sources that are due.
        cron(sweep_sheets, minute=set(range(0, 60, 5)), unique=True, timeout=60),
        cron(
            sweep_search, minute=set(range(0, 60, 2)), unique=True, timeout=120, run_at_startup=True
        ),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = queue.redis_settings(get_settings().redis_url)
    # JSON, not pickle: job arguments are ids and must be readable by any worker version.
    job_serializer = staticmethod(queue.serialize)
    job_deserializer = staticmethod(queue.deserialize)
    max_jobs = 10
    # `arq workers.settings.WorkerSettings --check` (or a container's health check) reads
    # the worker's health key, written this often.
    health_check_interval = 60
