"""The `schoolgraph` command: dev, serve, migrate, seed, org create, token."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from app.config import Settings, get_settings
from app.db import Database
from app.devservices import EmbeddedServices
from app.logs import configure_logging
from app.orgs.models import Org, Role

if TYPE_CHECKING:
    from app.devwatch import DevSession

T = TypeVar("T")


@dataclass
class Runtime:
    database_url: str
    redis_url: str
    jwt_secret: str | None
    embedded: EmbeddedServices | None

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop_if_started_here()


def _runtime(
    settings: Settings, data_dir: Path, on_starting: Callable[[str], None] | None = None
) -> Runtime:
    """The servers to use: the environment's URLs, else the embedded ones of data_dir
    (already running ones are shared; `on_starting` hears of each one launched here)."""
    embedded = None
    db_url, redis_url = settings.database_url, settings.redis_url
    if not db_url or not redis_url:
        embedded = EmbeddedServices(data_dir, on_starting=on_starting).start()
        db_url = db_url or embedded.database_url
        redis_url = redis_url or embedded.redis_url
    secret = settings.jwt_secret
    if not secret and not settings.jwt_jwks_url:
        # Dev only: a secret generated once and kept in the data dir.
        secret = (embedded or EmbeddedServices(data_dir)).jwt_secret()
    return Runtime(db_url, redis_url, secret, embedded)


def _require_schema(runtime: Runtime) -> None:
    """Embedded servers are migrated on the spot; a server of your own must be migrated
    explicitly (`schoolgraph migrate`), so a deploy never changes its schema by surprise."""
    from app import migrate

    if runtime.embedded is not None:
        migrate.upgrade(runtime.database_url)
    elif not migrate.is_current(runtime.database_url):
        raise SystemExit(
            "error: the database is not at the latest migration: run `schoolgraph migrate`"
        )


def _terminate_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _serve(runtime: Runtime, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    # Workers are separate processes that build the app from the environment.
    os.environ.update(_export_env(runtime))
    get_settings.cache_clear()
    settings = get_settings()
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # The app configures logging (LOG_FORMAT) and writes its own request line: uvicorn's
        # access log would write query strings (names in filters, ?token=) verbatim.
        log_config=None,
        access_log=False,
        ws_ping_interval=20,
        ws_max_size=settings.max_ws_message_bytes,
        ws_per_message_deflate=settings.ws_compression,
    )


async def _with_db(
    runtime: Runtime, settings: Settings, work: Callable[[Database], Awaitable[T]]
) -> T:
    db = Database.connect(settings, runtime.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def _on_database(settings: Settings, data_dir: Path, work: Callable[[Database], Awaitable[T]]) -> T:
    """A command's `work` on the database of the servers it uses (the environment's, else the
    embedded ones, migrated on the spot), stopping what it started here."""
    runtime = _runtime(settings, data_dir)
    try:
        _require_schema(runtime)
        return asyncio.run(_with_db(runtime, settings, work))
    finally:
        runtime.close()


def _token(secret: str, org: str, role: Role, sub: str, hours: float) -> str:
    from app.auth.tokens import issue

    return issue(secret, sub=sub, org=org, role=role, ttl=timedelta(hours=hours))


def cmd_dev(args: argparse.Namespace, settings: Settings) -> int:
    from app import devwatch

    # Taken before any server starts: a second dev on this data dir stops here.
    try:
        session = devwatch.DevSession.open(args.data_dir)
    except devwatch.DevLockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        _dev(args, settings, session)
    except KeyboardInterrupt:
        pass
    finally:
        # Whatever _dev did not get to stop, the watchdog stops now.
        session.close()
    return 0


def _dev(args: argparse.Namespace, settings: Settings, session: DevSession) -> None:
    from app import devwatch, migrate
    from app.seed import seed_demo

    # Readable lines in a terminal; production (serve, worker) logs JSON unless told otherwise.
    os.environ.setdefault("LOG_FORMAT", "text")
    # A webhook receiver you try out on this machine (127.0.0.1) may be an endpoint here.
    os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    runtime = _runtime(settings, args.data_dir, on_starting=session.claim)
    try:
        print("Migrating the database…", flush=True)
        migrate.upgrade(runtime.database_url)
        created = asyncio.run(_with_db(runtime, settings, seed_demo))
        if created:
            print("Seeded the demo school (org 'demo').", flush=True)
        if runtime.jwt_secret is None:
            print("JWT_JWKS_URL is set: use tokens from your identity provider.")
        else:
            token = _token(runtime.jwt_secret, "demo", Role.ADMIN, "dev-admin", 12)
            print(
                "\nschoolgraph is starting.\n"
                f"  GraphiQL:  http://127.0.0.1:{args.port}/graphql\n"
                f"  Dashboard: http://127.0.0.1:{args.port}/dashboard/#token={token}\n"
                "             (the token stays in the browser tab: the page takes it out of "
                "the link)\n"
                f"  ADMIN token for org 'demo' (12 h):\n  {token}\n"
                '  In GraphiQL, add the header  {"Authorization": "Bearer <token>"}\n',
                flush=True,
            )
        _terminate_on_sigterm()
        # The queue worker runs beside the API, on the same servers. Linux SIGTERMs it if
        # dev dies (the watchdog would too, a moment later).
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--data-dir", str(args.data_dir)],
            env=_export_env(runtime),
            preexec_fn=devwatch.die_with_parent(),
        )
        session.claim_process("worker", worker.pid)
        try:
            _serve(runtime, "127.0.0.1", args.port)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    finally:
        runtime.close()
    session.release_all()  # reached only when everything above stopped cleanly


def _export_env(runtime: Runtime) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": runtime.database_url, "REDIS_URL": runtime.redis_url}
    if runtime.jwt_secret:
        env["JWT_SECRET"] = runtime.jwt_secret
    return env


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    runtime = _runtime(settings, args.data_dir)
    os.environ.update(_export_env(runtime))
    get_settings.cache_clear()
    try:
        from arq.worker import run_worker

        from workers.settings import WorkerSettings

        # Logging is the app's (LOG_FORMAT), set up in the worker's startup: arq's own
        # dictConfig would print every line twice, once as plain text.
        configure_logging(get_settings().log_format or "json", get_settings().log_level)
        run_worker(WorkerSettings)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    runtime = _runtime(settings, args.data_dir)
    try:
        _terminate_on_sigterm()
        _serve(runtime, args.host, args.port, args.workers)
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app import migrate

    runtime = _runtime(settings, args.data_dir)
    try:
        migrate.upgrade(runtime.database_url, args.revision)
        print(f"Database at {args.revision}.")
    finally:
        runtime.close()
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from app.seed import seed_demo

    if not args.demo:
        print("Nothing to seed: pass --demo.", file=sys.stderr)
        return 2
    created = _on_database(settings, args.data_dir, lambda db: seed_demo(db, slug=args.org))
    print("Seeded the demo school." if created else f"Org {args.org!r} exists; left as is.")
    return 0


def cmd_org_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.core.errors import ServiceError
    from app.orgs import service

    async def create(db: Database) -> Org:
        async with db.admin_transaction() as session:
            return await service.create_org(session, slug=args.slug, name=args.name or args.slug)

    try:
        org = _on_database(settings, args.data_dir, create)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Created org {org.slug} ({org.id}).")
    return 0


def cmd_risk_recompute(args: argparse.Namespace, settings: Settings) -> int:
    from app.risk import scheduled

    results = _on_database(
        settings,
        args.data_dir,
        lambda db: scheduled.sweep(db, org_slug=args.org, everyone=True),
    )
    if args.org and not results:
        print(f"error: no organisation {args.org!r}", file=sys.stderr)
        return 1
    failed = [r for r in results if r.error_id]
    for r in results:
        if r.error_id:
            print(f"error: {r.org_slug}: recompute failed (errorId {r.error_id})", file=sys.stderr)
            continue
        print(
            f"{r.org_slug}: {r.evaluated} students evaluated, {r.changed} changed"
            + (f", {r.skipped} busy (left for the next sweep)" if r.skipped else "")
        )
    return 1 if failed else 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the search documents of one org (or every org) now, in this process, with
    the active model; progress on stderr. Search keeps answering meanwhile."""
    from rich.progress import Progress
    from sqlalchemy import select

    from app.auth.principal import Principal
    from app.search import embeddings
    from app.search import service as search

    provider = embeddings.provider(settings)

    async def reindex(db: Database) -> list[tuple[str, search.Indexed]]:
        async with db.admin_transaction() as session:
            query = select(Org.id, Org.slug).order_by(Org.slug)
            if args.org:
                query = query.where(Org.slug == args.org)
            orgs = (await session.execute(query)).all()
        await search.ensure_vector_index(db, provider)
        done = []
        with Progress(transient=True) as bar:
            for org_id, slug in orgs:
                actor = Principal(sub="cli:reindex", role=Role.ADMIN, org_id=org_id, org_slug=slug)
                async with db.transaction(org_id) as session:
                    await search.request_reindex(session, actor=actor)
                    total = (await search.status(session, provider, org_id=org_id)).sources
                task = bar.add_task(slug, total=total)
                result = await search.index_pending(
                    db, provider, org_id, progress=lambda n, t=task: bar.advance(t, n)
                )
                done.append((slug, result))
        return done

    results = _on_database(settings, args.data_dir, reindex)
    if args.org and not results:
        print(f"error: no organisation {args.org!r}", file=sys.stderr)
        return 1
    for slug, r in results:
        print(f"{slug}: {r.embedded} documents indexed, {r.deleted} removed")
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    """Apply each org's retention policy now (or, with --dry-run, only count what would
    go); prints a table, or JSON with --json."""
    from datetime import UTC, datetime

    from app.records import retention

    now = datetime.now(UTC)

    async def run(db: Database) -> list[tuple[str, list[retention.Due]]]:
        out = []
        for org_id, slug, policy in await retention.orgs_with_policy(db, args.org):
            if args.dry_run:
                async with db.transaction(org_id) as session:
                    dues = await retention.plan(session, org_id=org_id, policy=policy, now=now)
            else:
                dues = await retention.apply(db, org_id=org_id, now=now)
            out.append((slug, dues))
        return out

    results = _on_database(settings, args.data_dir, run)
    if args.org and not results:
        print(f"error: no organisation {args.org!r}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "dryRun": args.dry_run,
                    "at": now.isoformat(),
                    "orgs": {slug: retention.as_json(dues) for slug, dues in results},
                },
                indent=2,
            )
        )
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    for slug, dues in results:
        if not dues:
            print(f"{slug}: no retention limits set")
        for d in dues:
            print(f"{slug}: {verb} {d.rows} {d.rule.what} older than {d.cutoff.isoformat()}")
    return 0


def cmd_iep_report(args: argparse.Namespace, settings: Settings) -> int:
    """One student's IEP progress report (--student, by SIS id) or a class's caseload ZIP
    (--class), made in this process as the worker makes it: audited, kept as a generated
    file (downloadable until it expires) and written to --out."""
    import getpass
    from datetime import date
    from pathlib import Path

    from sqlalchemy import select

    from app.auth.principal import Principal
    from app.core.errors import ServiceError
    from app.iep import reports
    from app.records import files
    from app.records.models import FileStatus, GeneratedFile
    from app.students.models import Student

    fmt = reports.ReportFormat(args.format.upper())
    start, end = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)

    async def run(db: Database) -> tuple[str, Path] | str:
        async with db.admin_transaction() as session:
            query = select(Org.id, Org.slug).order_by(Org.slug)
            if args.org:
                query = query.where(Org.slug == args.org)
            orgs = (await session.execute(query)).all()
        if len(orgs) != 1:
            return (
                f"no organisation {args.org!r}" if args.org else "several organisations: give --org"
            )
        org_id, slug = orgs[0]
        actor = Principal(
            sub=f"cli:{getpass.getuser()}", role=Role.ADMIN, org_id=org_id, org_slug=slug
        )
        try:
            async with db.transaction(org_id) as session:
                ids = None
                if args.student:
                    found = await session.scalar(
                        select(Student.id).where(
                            Student.org_id == org_id, Student.external_id == args.student
                        )
                    )
                    if found is None:
                        return f"no student with SIS id {args.student!r}"
                    ids = [found]
                row = await reports.request(
                    session,
                    actor=actor,
                    student_ids=ids,
                    class_code=args.class_code,
                    period_start=start,
                    period_end=end,
                    fmt=fmt,
                    caseload=ids is None,
                )
                file_id = row.id
        except ServiceError as exc:
            return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        # Made here as the worker makes it (RUNNING meanwhile: the sweep leaves it alone).
        status = await reports.make(db, settings, org_id, file_id)
        if status is not FileStatus.READY:
            return "the report could not be made (see the log)"
        async with db.transaction(org_id) as session:
            made = await session.get(GeneratedFile, file_id)
        assert made is not None and made.path is not None and made.name is not None
        target = Path(args.out) if args.out else Path(made.name)
        shutil.copyfile(files.disk_path(settings, made.path), target)
        return made.name, target

    result = _on_database(settings, args.data_dir, run)
    if isinstance(result, str):
        print(f"error: {result}", file=sys.stderr)
        return 1
    print(f"wrote {result[1]}")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from app.orgs import service

    # A token for a mistyped organisation would only fail later, at the API: refuse it here.
    runtime = _runtime(settings, args.data_dir)

    async def exists(db: Database) -> bool:
        async with db.admin_transaction() as session:
            return await service.get_by_slug(session, slug=args.org) is not None

    try:
        _require_schema(runtime)
        found = asyncio.run(_with_db(runtime, settings, exists))
    finally:
        runtime.close()
    if not found:
        print(
            f"error: no organisation {args.org!r} "
            f"(create it with: schoolgraph org create {args.org})",
            file=sys.stderr,
        )
        return 1
    secret = runtime.jwt_secret or EmbeddedServices(args.data_dir).jwt_secret()
    print(
        _token(
            secret, args.org, Role(args.role), args.sub or f"cli-{args.role.lower()}", args.hours
        )
    )
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console

    from app.imports import cli

    runtime = _runtime(settings, args.data_dir)
    try:
        _require_schema(runtime)
        return asyncio.run(
            _with_db(
                runtime,
                settings,
                lambda db: cli.run(
                    db,
                    runtime.redis_url,
                    settings,
                    org_slug=args.org,
                    kind=args.kind,
                    files=args.files,
                    wait=args.wait,
                    dry_run=args.dry_run,
                    console=Console(),
                ),
            )
        )
    finally:
        runtime.close()


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth.principal import Principal
    from app.graphql.compiled.explain import explain_compiled
    from app.graphql.schema import build_schema
    from app.orgs import service

    try:
        document = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        variables = json.loads(args.variables) if args.variables else None
    except ValueError as exc:
        print(f"error: --variables is not JSON: {exc}", file=sys.stderr)
        return 2
    if variables is not None and not isinstance(variables, dict):
        print("error: --variables must be a JSON object", file=sys.stderr)
        return 2
    runtime = _runtime(settings, args.data_dir)

    async def explain(db: Database) -> str | None:
        async with db.admin_transaction() as session:
            org = await service.get_by_slug(session, slug=args.org)
        if org is None:
            return None
        principal = Principal(
            sub="cli-explain", role=Role(args.role), org_id=org.id, org_slug=org.slug
        )
        explanation = await explain_compiled(
            db,
            principal,
            build_schema(settings),
            document,
            args.operation,
            variables,
            settings,
            analyze=args.analyze,
        )
        return explanation.text()

    try:
        _require_schema(runtime)
        text = asyncio.run(_with_db(runtime, settings, explain))
    finally:
        runtime.close()
    if text is None:
        print(f"error: no organisation {args.org!r}", file=sys.stderr)
        return 1
    print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="schoolgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--data-dir",
            type=Path,
            default=settings.data_dir,
            help="embedded servers' data (used when DATABASE_URL/REDIS_URL are unset)",
        )
        return p

    dev = with_data_dir(sub.add_parser("dev", help="embedded servers, migrate, seed, serve"))
    dev.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    dev.set_defaults(func=cmd_dev)

    serve = with_data_dir(sub.add_parser("serve", help="serve the API"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="API processes (the app is stateless; one per core is a good start)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = with_data_dir(sub.add_parser("worker", help="run the arq queue worker"))
    worker.set_defaults(func=cmd_worker)

    mig = with_data_dir(sub.add_parser("migrate", help="apply database migrations"))
    mig.add_argument("--revision", default="head")
    mig.set_defaults(func=cmd_migrate)

    seed = with_data_dir(sub.add_parser("seed", help="load demo data"))
    seed.add_argument("--demo", action="store_true")
    seed.add_argument("--org", default="demo")
    seed.set_defaults(func=cmd_seed)

    org = sub.add_parser("org", help="organisations")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    create = with_data_dir(org_sub.add_parser("create", help="create an organisation"))
    create.add_argument("slug")
    create.add_argument("--name")
    create.set_defaults(func=cmd_org_create)

    risk = sub.add_parser("risk", help="the risk picture")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True)
    recompute = with_data_dir(
        risk_sub.add_parser("recompute", help="recompute every student's risk now")
    )
    recompute.add_argument("--org", help="organisation slug (default: every organisation)")
    recompute.set_defaults(func=cmd_risk_recompute)

    iep = with_data_dir(
        sub.add_parser(
            "iep-report", help="an IEP progress report (--student) or a caseload ZIP (--class)"
        )
    )
    who = iep.add_mutually_exclusive_group(required=True)
    who.add_argument("--student", help="the student's SIS id (external id)")
    who.add_argument("--class", dest="class_code", help="a class code: its caseload, as a ZIP")
    iep.add_argument("--from", dest="date_from", required=True, help="period start, YYYY-MM-DD")
    iep.add_argument("--to", dest="date_to", required=True, help="period end, YYYY-MM-DD")
    iep.add_argument("--format", choices=["pdf", "docx"], default="pdf")
    iep.add_argument("--org", help="organisation slug (needed when there are several)")
    iep.add_argument("--out", help="where to write it (default: its name, here)")
    iep.set_defaults(func=cmd_iep_report)

    keep = with_data_dir(
        sub.add_parser("retention", help="apply each org's retention policy now (see --dry-run)")
    )
    keep.add_argument("--org", help="organisation slug (default: every organisation)")
    keep.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    keep.add_argument("--json", action="store_true", help="print JSON")
    keep.set_defaults(func=cmd_retention)

    reindex = with_data_dir(
        sub.add_parser("reindex", help="rebuild the search index now (active EMBEDDINGS model)")
    )
    reindex.add_argument("--org", help="organisation slug (default: every organisation)")
    reindex.set_defaults(func=cmd_reindex)

    token = with_data_dir(sub.add_parser("token", help="issue a JWT (HS256, JWT_SECRET)"))
    token.add_argument("--org", required=True, help="organisation slug")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--sub")
    token.add_argument("--hours", type=float, default=12.0)
    token.set_defaults(func=cmd_token)

    imp = with_data_dir(
        sub.add_parser("import", help="import files (queued for the worker, as startImport)")
    )
    imp.add_argument("kind", choices=["roster", "attendance", "iready", "incidents"])
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--org", required=True, help="organisation slug")
    imp.add_argument("--wait", action="store_true", help="show progress until it ends")
    imp.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
    imp.set_defaults(func=cmd_import)

    explain = with_data_dir(
        sub.add_parser(
            "explain",
            help="the compiled read path's statement for a query, and Postgres' EXPLAIN of it",
        )
    )
    explain.add_argument("file", help="the GraphQL document (- for standard input)")
    explain.add_argument("--org", required=True, help="organisation slug (RLS scope)")
    explain.add_argument("--role", default=Role.ADMIN.value, choices=[r.value for r in Role])
    explain.add_argument("--operation", help="operationName, for a document with several")
    explain.add_argument("--variables", help="the variables, as JSON")
    explain.add_argument(
        "--analyze", action="store_true", help="EXPLAIN ANALYZE (runs the statement)"
    )
    explain.set_defaults(func=cmd_explain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None and os.environ.get("DATA_DIR") != str(data_dir):
        # The API and the worker it starts keep generated files (exports, reports) under
        # the data directory given: the settings (and the worker's process) follow it.
        os.environ["DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()
    code: int = args.func(args, get_settings())
    return code


if __name__ == "__main__":
    sys.exit(main())
