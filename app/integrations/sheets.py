"""Google Sheets sync: a school's hand-kept student sheet, one way into the roster, every
`interval_hours` (default 6).

A run gets an access token for the source's service account with google-auth (its
`token_uri` comes from the service-account JSON; refreshing blocks, so it runs in a thread),
reads the range with the Sheets API's `values.get` over httpx (SHEETS_API_ROOT), and hands the
rows to the roster import as a CSV file: the same columns, checks, audit and events as an
uploaded roster, with its rejected rows on the import job. Each run is recorded (SUCCESS,
PARTIAL, FAILED with a message a school admin can act on, counts, start and end)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.config import get_settings
from app.core.errors import ErrorCode, ServiceError, Validator
from app.db import Database
from app.imports import processing
from app.imports import service as imports
from app.imports.kinds import ImportKind
from app.imports.models import ImportJob, ImportRowError, ImportStatus
from app.integrations.models import SyncRun, SyncSource, SyncStatus
from app.orgs.models import Org, Role

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
# A run still RUNNING this long after it started was cut off (its worker died, or its
# job timed out): the sweep records it FAILED, and the source may run again.
STALE_RUN = timedelta(hours=1)


class SheetError(Exception):
    """A run that could not read the sheet; the message is for the school's admin."""


@dataclass(frozen=True)
class SheetsConfig:
    api_root: str
    timeout: float
    batch_size: int
    stale: timedelta
    max_file_bytes: int


# -- sources ------------------------------------------------------------------------------


def env_prefix(org_slug: str) -> str:
    """The environment variables an org's sources may name: SHEETS_KEY_<ORG SLUG>..."""
    return "SHEETS_KEY_" + re.sub(r"[^A-Z0-9]", "_", org_slug.upper())


def reference_problem(ref: str, org_slug: str) -> str | None:
    """What is wrong with a credentials reference, or None. A worker serves every school:
    a source may name only its own org's keys (an environment variable SHEETS_KEY_<SLUG>...,
    or a file in SHEETS_CREDENTIALS_DIR/<slug>/), never another school's."""
    kind, _, where = ref.partition(":")
    if kind == "env" and re.fullmatch(r"[A-Z0-9_]+", where or "-"):
        prefix = env_prefix(org_slug)
        if where == prefix or where.startswith(prefix + "_"):
            return None
        return f"an environment variable named {prefix} (or {prefix}_...)"
    if kind == "file" and where:
        root = get_settings().sheets_credentials_dir
        if root is None:
            return "file: keys need SHEETS_CREDENTIALS_DIR on the worker; or use env:"
        allowed = (Path(root) / org_slug).resolve()
        if Path(where).resolve().is_relative_to(allowed):
            return None
        return f"a file in {allowed}/"
    return "where the service-account JSON is: env:VARIABLE or file:/path (never the key)"


@dataclass
class SourceChanges:
    name: str | None = None
    spreadsheet_id: str | None = None
    range: str | None = None
    credentials: str | None = None
    interval_hours: int | None = None
    active: bool | None = None


def _clean(changes: SourceChanges, *, creating: bool, org_slug: str) -> dict[str, Any]:
    v = Validator()
    values: dict[str, Any] = {}
    for name, limit in (("name", 100), ("spreadsheet_id", 200), ("range", 200)):
        given = getattr(changes, name)
        if given is not None or (creating and name != "range"):
            values[name] = v.text(name, given, max_length=limit, required=True)
    if creating and changes.range is None:
        values["range"] = "Sheet1"
    if changes.credentials is not None or creating:
        ref = (changes.credentials or "").strip()
        problem = reference_problem(ref, org_slug)
        if problem:
            v.add("credentials", problem, ErrorCode.INVALID)
        values["credentials"] = ref
    if changes.interval_hours is not None:
        if not 1 <= changes.interval_hours <= 168:
            v.add("intervalHours", "1 to 168 hours", ErrorCode.OUT_OF_RANGE)
        values["interval_hours"] = changes.interval_hours
    if changes.active is not None:
        values["active"] = changes.active
    v.raise_if_any()
    return values


async def create_source(
    session: AsyncSession, *, actor: Principal, changes: SourceChanges
) -> SyncSource:
    values = _clean(changes, creating=True, org_slug=actor.org_slug)
    now = (await session.execute(text("SELECT now()"))).scalar_one()
    source = SyncSource(org_id=actor.org_id, active=True, next_due_at=now, **values)
    source.interval_hours = values.get("interval_hours", 6)
    session.add(source)
    await session.flush()
    await audit.record(
        session, actor=actor, action="sync_source.create", entity=source, before=None
    )
    return source


async def sources(session: AsyncSession, *, org_id: uuid.UUID) -> list[SyncSource]:
    rows = await session.execute(
        select(SyncSource)
        .where(SyncSource.org_id == org_id)
        .order_by(SyncSource.created_at, SyncSource.id)
    )
    return list(rows.scalars())


async def last_runs(
    session: AsyncSession, *, org_id: uuid.UUID, source_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SyncRun]:
    ranked = (
        select(
            SyncRun.id,
            func.row_number()
            .over(
                partition_by=SyncRun.source_id,
                order_by=(SyncRun.started_at.desc(), SyncRun.id.desc()),
            )
            .label("n"),
        )
        .where(SyncRun.org_id == org_id, SyncRun.source_id.in_(source_ids))
        .subquery()
    )
    rows = await session.execute(
        select(SyncRun).join(ranked, ranked.c.id == SyncRun.id).where(ranked.c.n == 1)
    )
    return {r.source_id: r for r in rows.scalars()}


async def due(db: Database) -> list[tuple[uuid.UUID, datetime]]:
    """Active sources whose next run is due, across orgs (the cron queues them)."""
    async with db.admin_transaction() as session:
        rows = await session.execute(
            select(SyncSource.id, SyncSource.next_due_at).where(
                SyncSource.active, SyncSource.next_due_at <= text("now()")
            )
        )
        return [(r.id, r.next_due_at) for r in rows]


async def _require(
    session: AsyncSession, *, org_id: uuid.UUID, source_id: uuid.UUID, field: str
) -> SyncSource:
    source = (
        await session.execute(
            select(SyncSource).where(SyncSource.org_id == org_id, SyncSource.id == source_id)
        )
    ).scalar_one_or_none()
    if source is None:
        raise ServiceError.single(field, "no such sync source", ErrorCode.NOT_FOUND)
    return source


async def update_source(
    session: AsyncSession, *, actor: Principal, source_id: uuid.UUID, changes: SourceChanges
) -> SyncSource:
    """Change a source (turn it off with active: false); a new interval counts from now."""
    source = await _require(session, org_id=actor.org_id, source_id=source_id, field="id")
    before = audit.snapshot(source)
    values = _clean(changes, creating=False, org_slug=actor.org_slug)
    for name, value in values.items():
        setattr(source, name, value)
    if "interval_hours" in values:
        now = (await session.execute(text("SELECT now()"))).scalar_one()
        source.next_due_at = now + timedelta(hours=source.interval_hours)
    await session.flush()
    await audit.record(
        session, actor=actor, action="sync_source.update", entity=source, before=before
    )
    return source


async def make_due(session: AsyncSession, *, actor: Principal, source_id: uuid.UUID) -> SyncSource:
    """runSyncNow: due now (the worker runs it at once when queued, or at its next sweep)."""
    source = await _require(session, org_id=actor.org_id, source_id=source_id, field="sourceId")
    source.next_due_at = (await session.execute(text("SELECT now()"))).scalar_one()
    await audit.record(
        session, actor=actor, action="sync_source.run_now", entity=source, before=None
    )
    return source


# -- credentials and reading --------------------------------------------------------------


class _Tokens:
    """Service-account credentials per source, kept between runs: google-auth refreshes the
    access token only when it has expired."""

    def __init__(self) -> None:
        self._credentials: dict[tuple[uuid.UUID, str], Any] = {}
        self._lock = threading.Lock()

    def token(self, source: SyncSource) -> str:
        from google.auth.exceptions import GoogleAuthError
        from google.auth.transport.requests import Request
        from google.oauth2 import service_account

        key = (source.id, source.credentials)
        with self._lock:
            credentials = self._credentials.get(key)
            if credentials is None:
                info = _service_account_json(source.credentials)
                try:
                    credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                        info, scopes=SCOPES
                    )
                except (ValueError, KeyError) as exc:
                    raise SheetError(f"the service-account JSON is not usable: {exc}") from exc
                self._credentials[key] = credentials
            if not credentials.valid:
                try:
                    credentials.refresh(Request())
                except GoogleAuthError as exc:
                    raise SheetError(f"could not get an access token: {exc}") from exc
            return str(credentials.token)


TOKENS = _Tokens()


def _service_account_json(ref: str) -> dict[str, Any]:
    kind, _, where = ref.partition(":")
    if kind == "env":
        raw = os.environ.get(where)
        if not raw:
            raise SheetError(f"the worker has no environment variable {where}")
    else:
        try:
            raw = Path(where).read_text()
        except OSError as exc:
            raise SheetError(f"cannot read {where}: {exc.strerror}") from exc
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise SheetError("the service-account JSON is not JSON") from exc
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SheetError("the credentials are not a service account's JSON key")
    return info


async def read_values(source: SyncSource, config: SheetsConfig) -> list[list[str]]:
    token = await asyncio.to_thread(TOKENS.token, source)
    url = (
        f"{config.api_root.rstrip('/')}/v4/spreadsheets/{quote(source.spreadsheet_id, safe='')}"
        f"/values/{quote(source.range, safe='')}"
    )
    try:
        async with httpx.AsyncClient(timeout=config.timeout) as http:
            response = await http.get(
                url,
                params={"majorDimension": "ROWS", "valueRenderOption": "FORMATTED_VALUE"},
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as exc:
        raise SheetError(f"the Sheets API did not answer ({type(exc).__name__})") from exc
    if response.status_code == 403:
        raise SheetError(
            "the sheet is not shared with the service account (share it with its "
            "client_email as a viewer)"
        )
    if response.status_code == 404:
        raise SheetError("no such spreadsheet or range")
    if response.status_code == 429:
        raise SheetError("the Sheets API is rate limiting us; the next run will try again")
    if response.status_code != 200:
        raise SheetError(f"the Sheets API answered {response.status_code}")
    values = response.json().get("values")  # absent when the range is empty
    if not values:
        raise SheetError(f"the range {source.range} is empty")
    return [[str(v) for v in row] for row in values]


def as_csv(values: list[list[str]]) -> bytes:
    """The rows as a CSV file; short (ragged) rows padded to the header's width."""
    width = max(len(row) for row in values)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in values:
        writer.writerow(row + [""] * (width - len(row)))
    return buffer.getvalue().encode()


# -- a run --------------------------------------------------------------------------------


async def _claim(
    db: Database, source_id: uuid.UUID, force: bool
) -> tuple[SyncSource, Org, SyncRun] | None:
    async with db.admin_transaction() as session:
        source = (
            await session.execute(
                select(SyncSource)
                .where(SyncSource.id == source_id, SyncSource.active)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if source is None:
            return None
        now = (await session.execute(text("SELECT now()"))).scalar_one()
        if not force and source.next_due_at > now:
            return None
        running = await session.scalar(
            select(SyncRun.id).where(
                SyncRun.source_id == source.id,
                SyncRun.status == SyncStatus.RUNNING,
                SyncRun.started_at > now - STALE_RUN,
            )
        )
        if running is not None:
            return None  # running elsewhere: one run of a sheet at a time
        source.next_due_at = now + timedelta(hours=source.interval_hours)
        run = SyncRun(
            id=uuid.uuid4(),
            org_id=source.org_id,
            source_id=source.id,
            status=SyncStatus.RUNNING,
            started_at=now,
        )
        session.add(run)
        org = await session.get(Org, source.org_id)
        assert org is not None
        return source, org, run


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def run_sync(
    db: Database, source_id: uuid.UUID, config: SheetsConfig, *, force: bool = False
) -> SyncRun | None:
    """Run one source if it is due (or `force`); its run, or None when it was not this
    call's (not due, inactive, or running elsewhere)."""
    claimed = await _claim(db, source_id, force)
    if claimed is None:
        return None
    source, org, run = claimed
    actor = Principal(
        sub=f"sheets:{source.name}"[:200], role=Role.INTEGRATION, org_id=org.id, org_slug=org.slug
    )
    try:
        values = await read_values(source, config)
        async with db.transaction(org.id) as session:
            job = await imports.create(
                session,
                actor=actor,
                kind=ImportKind.ROSTER,
                uploads=[imports.Upload(f"{source.name}.csv"[:255], _one(as_csv(values)))],
                max_file_bytes=config.max_file_bytes,
            )
            # Linked at once: a run cut off mid-import still names the import that ran.
            run.import_job_id = job.id
            await session.merge(run)
        done = await processing.process(
            db, job.id, batch_size=config.batch_size, stale=config.stale
        )
        if done is None:
            raise SheetError("the roster import could not run")
        await _finish(db, run, done, len(values) - 1)
    except SheetError as exc:
        await _fail(db, run, str(exc))
    except ServiceError as exc:
        await _fail(db, run, "; ".join(e.message for e in exc.errors))
    except BaseException as exc:  # cancelled (a job timeout, a shutdown) included
        log.exception("sheets sync %s failed", source.id)
        await asyncio.shield(_fail(db, run, f"interrupted ({type(exc).__name__})"))
        if not isinstance(exc, Exception):
            raise
    return run


async def _finish(db: Database, run: SyncRun, job: ImportJob, rows: int) -> None:
    status = {
        ImportStatus.SUCCEEDED: SyncStatus.SUCCESS,
        ImportStatus.PARTIAL: SyncStatus.PARTIAL,
    }.get(job.status, SyncStatus.FAILED)
    error = None
    if status is not SyncStatus.SUCCESS:
        async with db.transaction(run.org_id) as session:
            first = (
                await session.execute(
                    select(ImportRowError)
                    .where(ImportRowError.job_id == job.id)
                    .order_by(ImportRowError.id)
                    .limit(1)
                )
            ).scalar_one_or_none()
        if first is not None:
            where = f"row {first.row}: " if first.row is not None else ""
            error = f"{where}{first.message} (and {job.failed} rows rejected in all)"
            if status is SyncStatus.FAILED:
                error = f"{where}{first.message}"
    await _store(db, run, status, error, job, rows)


async def _fail(db: Database, run: SyncRun, message: str) -> None:
    await _store(db, run, SyncStatus.FAILED, message, None, 0)


async def _store(
    db: Database,
    run: SyncRun,
    status: SyncStatus,
    error: str | None,
    job: ImportJob | None,
    rows: int,
) -> None:
    run.status, run.error, run.rows = status, error, rows
    if job is not None:
        run.import_job_id = job.id
        run.inserted, run.updated = job.inserted, job.updated
        run.unchanged, run.failed = job.unchanged, job.failed
    async with db.transaction(run.org_id) as session:
        run.finished_at = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.merge(run)


async def reap(db: Database) -> int:
    """Runs left RUNNING past STALE_RUN (their worker died): FAILED, saying so."""
    async with db.admin_transaction() as session:
        result = await session.execute(
            text(
                "UPDATE sync_runs SET status = 'FAILED', finished_at = now(),"
                " error = 'interrupted: the worker running it stopped'"
                " WHERE status = 'RUNNING' AND started_at < now() - CAST(:stale AS interval)"
            ),
            {"stale": STALE_RUN},
        )
        return int(getattr(result, "rowcount", 0) or 0)
