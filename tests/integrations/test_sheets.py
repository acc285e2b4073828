"""Google Sheets sync against a local server that speaks Google's token endpoint and the
Sheets values API: the real google-auth and httpx code, a real RSA service-account key."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from app.db import Database
from app.graphql.relay import to_global_id
from app.integrations import sheets
from app.integrations.models import SyncSource, SyncStatus
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import GraphQLClient, Org

HEADER = ["Student ID", "Name", "Class", "Year", "Support Notes"]
SHEET = [
    HEADER,
    ["S-1", "Ada Lovelace", "7A", "7", "Sits at the front"],
    ["S-2", "Alan Turing", "7B", "7"],  # ragged: the sheet omits trailing empty cells
    ["S-3", "Grace Hopper", "8A", "8", ""],
]


@dataclass
class Google:
    url: str = ""
    sheets: dict[str, Any] = field(default_factory=dict)  # spreadsheet id -> values or code
    tokens: int = 0
    expires_in: int = 3600
    reads: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def google() -> Iterator[Google]:
    state = Google()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
            state.tokens += 1
            self._answer(
                200,
                {
                    "access_token": f"tok-{state.tokens}",
                    "expires_in": state.expires_in,
                    "token_type": "Bearer",
                },
            )

        def do_GET(self) -> None:
            parts = urlsplit(self.path).path.split("/")
            # /v4/spreadsheets/{id}/values/{range}
            spreadsheet, cell_range = unquote(parts[3]), unquote(parts[5])
            state.reads.append(
                {
                    "auth": self.headers.get("Authorization"),
                    "sheet": spreadsheet,
                    "range": cell_range,
                }
            )
            if not (self.headers.get("Authorization") or "").startswith("Bearer tok-"):
                return self._answer(401, {"error": {"code": 401}})
            found = state.sheets.get(spreadsheet)
            if isinstance(found, int):
                return self._answer(found, {"error": {"code": found}})
            if found is None:
                return self._answer(404, {"error": {"code": 404}})
            body: dict[str, Any] = {"range": cell_range, "majorDimension": "ROWS"}
            if found:
                body["values"] = found  # Google leaves `values` out for an empty range
            self._answer(200, body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def service_account(google: Google, monkeypatch: pytest.MonkeyPatch, org: Org) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = sheets.env_prefix(org.slug) + "_" + uuid.uuid4().hex[:8].upper()
    monkeypatch.setenv(
        name,
        json.dumps(
            {
                "type": "service_account",
                "project_id": "school",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "sync@school.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{google.url}/token",
            }
        ),
    )
    return f"env:{name}"


def config(google: Google) -> sheets.SheetsConfig:
    return sheets.SheetsConfig(
        api_root=google.url,
        timeout=5,
        batch_size=100,
        stale=timedelta(seconds=60),
        max_file_bytes=10_000_000,
    )


async def _source(db: Database, org: Org, credentials: str, spreadsheet: str) -> uuid.UUID:
    async with db.transaction(org.id) as session:
        source = await sheets.create_source(
            session,
            actor=org.principal(),
            changes=sheets.SourceChanges(
                name="Mr P's sheet", spreadsheet_id=spreadsheet, credentials=credentials
            ),
        )
    return source.id


async def _students(db: Database, org: Org) -> dict[str, tuple[Any, ...]]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(
                Student.external_id,
                Student.name,
                Student.class_code,
                Student.year_group,
                Student.support_notes,
            ).where(Student.org_id == org.id)
        )
        return {r[0]: tuple(r[1:]) for r in rows}


async def test_a_sheet_creates_then_updates_the_roster_and_says_what_changed(
    db: Database, org: Org, google: Google, service_account: str
) -> None:
    google.sheets["sheet-1"] = [list(r) for r in SHEET]
    source_id = await _source(db, org, service_account, "sheet-1")
    first = await sheets.run_sync(db, source_id, config(google), force=True)
    assert first is not None and first.status is SyncStatus.SUCCESS, first.error
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (3, 3, 0, 0)
    assert (await _students(db, org))["S-2"] == ("Alan Turing", "7B", 7, None)
    assert google.reads[0]["range"] == "Sheet1" and google.reads[0]["auth"] == "Bearer tok-1"

    again = await sheets.run_sync(db, source_id, config(google), force=True)
    assert again is not None and (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    google.sheets["sheet-1"][3][2] = "8B"  # Grace moves class
    changed = await sheets.run_sync(db, source_id, config(google), force=True)
    assert changed is not None and (changed.updated, changed.unchanged) == (1, 2)
    assert (await _students(db, org))["S-3"][1] == "8B"
    assert google.tokens == 1  # the token was still good: not fetched again
    # Not due again for its interval (six hours) unless asked.
    assert await sheets.run_sync(db, source_id, config(google)) is None


async def test_bad_rows_make_a_partial_run_naming_them(
    db: Database, org: Org, google: Google, service_account: str
) -> None:
    google.sheets["sheet-2"] = [
        HEADER,
        ["S-9", "Good Row", "7A", "7"],
        ["", "No Id", "7A", "7"],
        ["S-10", "Bad Year", "7A", "year ninety"],
    ]
    source_id = await _source(db, org, service_account, "sheet-2")
    run = await sheets.run_sync(db, source_id, config(google), force=True)
    assert run is not None and run.status is SyncStatus.PARTIAL
    assert (run.inserted, run.failed) == (1, 2)
    assert run.error is not None and run.error.startswith("row 3:")
    assert run.import_job_id is not None
    assert set(await _students(db, org)) == {"S-9"}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (403, "not shared with the service account"),
        (429, "rate limiting"),
        ([], "is empty"),
        (None, "no such spreadsheet"),
    ],
)
async def test_a_sheet_that_cannot_be_read_fails_clearly(
    db: Database, org: Org, google: Google, service_account: str, answer: Any, message: str
) -> None:
    if answer is not None:
        google.sheets["sheet-x"] = answer
    source_id = await _source(db, org, service_account, "sheet-x")
    run = await sheets.run_sync(db, source_id, config(google), force=True)
    assert run is not None and run.status is SyncStatus.FAILED
    assert run.error is not None and message in run.error, run.error
    assert run.finished_at is not None and await _students(db, org) == {}


async def test_an_expired_token_is_refreshed(
    db: Database, org: Org, google: Google, service_account: str
) -> None:
    google.expires_in = 1  # already inside google-auth's refresh margin
    google.sheets["sheet-3"] = [HEADER, ["S-20", "Tok En", "7A", "7"]]
    source_id = await _source(db, org, service_account, "sheet-3")
    for _ in range(2):
        run = await sheets.run_sync(db, source_id, config(google), force=True)
        assert run is not None and run.status is SyncStatus.SUCCESS
    assert google.tokens == 2
    assert [r["auth"] for r in google.reads] == ["Bearer tok-1", "Bearer tok-2"]


async def test_missing_credentials_fail_with_what_to_fix(
    db: Database, org: Org, google: Google
) -> None:
    google.sheets["sheet-4"] = SHEET
    missing = sheets.env_prefix(org.slug) + "_NOT_SET"
    source_id = await _source(db, org, f"env:{missing}", "sheet-4")
    run = await sheets.run_sync(db, source_id, config(google), force=True)
    assert run is not None and run.status is SyncStatus.FAILED
    assert run.error == f"the worker has no environment variable {missing}"


async def test_a_source_may_name_only_its_own_schools_keys(db: Database, org: Org) -> None:
    from app.core.errors import ServiceError

    for ref in ("env:SHEETS_KEY_OTHER_SCHOOL", "env:DATABASE_URL", "file:/etc/passwd"):
        with pytest.raises(ServiceError) as refused:
            await _source(db, org, ref, "sheet-7")
        assert refused.value.errors[0].field == "credentials", ref


async def test_a_run_cut_off_is_recorded_and_the_sheet_may_run_again(
    db: Database, org: Org, google: Google, service_account: str
) -> None:
    from sqlalchemy import text

    google.sheets["sheet-8"] = SHEET
    source_id = await _source(db, org, service_account, "sheet-8")
    async with db.admin_transaction() as session:  # a worker died an hour and more ago
        await session.execute(
            text(
                "INSERT INTO sync_runs (id, org_id, source_id, status, started_at, rows,"
                " inserted, updated, unchanged, failed) VALUES (gen_random_uuid(), :org,"
                " :source, 'RUNNING', now() - interval '2 hours', 0, 0, 0, 0, 0)"
            ),
            {"org": org.id, "source": source_id},
        )
    assert await sheets.reap(db) >= 1
    async with db.transaction(org.id) as session:
        [error] = (
            (
                await session.execute(
                    text("SELECT error FROM sync_runs WHERE source_id = :s"), {"s": source_id}
                )
            )
            .scalars()
            .all()
        )
    assert error is not None and "interrupted" in error
    # A run RUNNING now (on another worker) keeps a second one from starting.
    async with db.admin_transaction() as session:
        await session.execute(
            text(
                "INSERT INTO sync_runs (id, org_id, source_id, status, started_at, rows,"
                " inserted, updated, unchanged, failed) VALUES (gen_random_uuid(), :org,"
                " :source, 'RUNNING', now(), 0, 0, 0, 0, 0)"
            ),
            {"org": org.id, "source": source_id},
        )
    assert await sheets.run_sync(db, source_id, config(google), force=True) is None


async def test_sources_are_managed_in_graphql(
    gql: GraphQLClient, db: Database, org: Org, google: Google, service_account: str
) -> None:
    create = """mutation($c: String!) { createSyncSource(input: {name: "Roster",
      spreadsheetId: "sheet-5", credentials: $c, intervalHours: 12}) {
      source { id name range intervalHours nextDueAt lastRun { status } }
      errors { field message code } } }"""
    token = org.token(Role.ADMIN)
    bad = await gql(create, {"c": '{"private_key": "..."}'}, token=token)
    [error] = bad["data"]["createSyncSource"]["errors"]
    assert error["field"] == "credentials" and "never the key" in error["message"]
    made_body = await gql(create, {"c": service_account}, token=token)
    assert made_body.get("data"), made_body
    made = made_body["data"]["createSyncSource"]
    assert made["errors"] == [] and made["source"]["range"] == "Sheet1"
    assert made["source"]["intervalHours"] == 12 and made["source"]["lastRun"] is None
    google.sheets["sheet-5"] = SHEET
    async with db.transaction(org.id) as session:
        source = (
            await session.execute(select(SyncSource).where(SyncSource.org_id == org.id))
        ).scalar_one()
    await sheets.run_sync(db, source.id, config(google))  # due at once when created
    listed = await gql(
        "{ syncSources { name nextDueAt lastRun { status rows inserted error importJobId } } }",
        token=token,
    )
    [row] = listed["data"]["syncSources"]
    assert row["lastRun"]["status"] == "SUCCESS" and row["lastRun"]["inserted"] == 3
    now = await gql(
        "mutation($s: ID!) { runSyncNow(sourceId: $s) { source { nextDueAt } errors { code } } }",
        {"s": made["source"]["id"]},
        token=token,
    )
    assert now["data"]["runSyncNow"]["source"]["nextDueAt"] < row["nextDueAt"]
    assert (await gql("{ syncSources { name } }", token=org.token(Role.TEACHER)))["data"] is None


async def test_a_source_can_be_changed_and_turned_off(
    gql: GraphQLClient, db: Database, org: Org, google: Google, service_account: str
) -> None:
    google.sheets["sheet-6"] = SHEET
    source_id = await _source(db, org, service_account, "sheet-6")
    update = """mutation($id: ID!, $h: Int, $a: Boolean, $r: String) {
      updateSyncSource(input: {id: $id, intervalHours: $h, active: $a, range: $r}) {
      source { range intervalHours active } errors { field code } } }"""
    gid = to_global_id("SyncSource", source_id)
    token = org.token(Role.ADMIN)
    bad = await gql(update, {"id": gid, "h": 0}, token=token)
    assert bad["data"]["updateSyncSource"]["errors"][0]["field"] == "intervalHours"
    changed = await gql(update, {"id": gid, "h": 24, "r": "Roster!A1:E"}, token=token)
    assert changed["data"]["updateSyncSource"]["source"] == {
        "range": "Roster!A1:E",
        "intervalHours": 24,
        "active": True,
    }
    off = await gql(update, {"id": gid, "a": False}, token=token)
    assert off["data"]["updateSyncSource"]["source"]["active"] is False
    # An inactive source does not run, even when asked.
    assert await sheets.run_sync(db, source_id, config(google), force=True) is None
    assert google.reads == []
