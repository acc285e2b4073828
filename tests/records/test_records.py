"""A student's whole record: export (everything held, nothing of another student), erasure
(no trace left in any org table, found from the metadata), and who may do either."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, text

from app.config import get_settings
from app.db import Base, Database
from app.graphql.relay import from_global_id, to_global_id
from app.orgs.models import Role
from app.records import jobs
from app.records.footprint import HOLDINGS, NO_STUDENT_DATA
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_error_masking import MUTATIONS
from tests.imports.test_graphql import upload
from tests.integrations.test_inbound import message, post, source
from tests.search.support import index

NAME = "Zofia Łukasiewicz-Müller"
EXT = "REC-A1"
OTHER_NAME = "Otto Other"
OTHER_EXT = "REC-B1"

EXPORT = """mutation($s: ID!) { exportStudentRecord(studentId: $s) {
  file { id kind status downloadUrl } errors { field code } } }"""
FILE = """query($id: ID!) { generatedFile(id: $id) { id status name size sha256 downloadUrl
  expiresAt student { name } } }"""
ERASE = """mutation($s: ID!, $r: String!) { eraseStudent(studentId: $s, reason: $r) {
  erasure { id actor reason status counts { table rows } } errors { field code } } }"""
UPSERT = """mutation($input: UpsertStudentInput!) { upsertStudent(input: $input) {
  student { id } errors { field } } }"""


def org_tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if "org_id" in t.c]


def test_every_org_table_says_whether_it_holds_a_students_data() -> None:
    """A table added later without erasure (and export) support fails here."""
    held = [h.table for h in HOLDINGS]
    assert len(held) == len(set(held))
    names = {t.name for t in org_tables()}
    assert set(held) | set(NO_STUDENT_DATA) == names, (
        "add the new table to app.records.footprint: HOLDINGS or NO_STUDENT_DATA"
    )
    assert not set(held) & set(NO_STUDENT_DATA)


async def traces(db: Database, org: Org, sid: uuid.UUID, ext: str, name: str) -> dict[str, int]:
    """Rows of every org-owned table (from the metadata) that mention the student: their
    id, their SIS id (as a JSON string or a Python repr, an import key's spelling), their
    name; in binary columns, their SIS id's bytes."""
    found: dict[str, int] = {}
    needles = {"sid": str(sid), "ext": json.dumps(ext), "rep": repr(ext), "name": name, "raw": ext}
    async with db.transaction(org.id) as session:
        for table in org_tables():
            conditions = [
                f"strpos(to_jsonb(t)::text, :{k}) > 0" for k in ("sid", "ext", "rep", "name")
            ]
            conditions += [
                f"position(convert_to(:raw, 'UTF8') IN t.{c.name}) > 0"
                for c in table.c
                if isinstance(c.type, LargeBinary)
            ]
            n = await session.scalar(
                text(
                    f"SELECT count(*) FROM {table.name} AS t WHERE t.org_id = :org"
                    f" AND ({' OR '.join(conditions)})"
                ),
                {"org": org.id, **needles},
            )
            if n:
                found[table.name] = int(n)
    return found


async def rich_record(gql: GraphQLClient, db: Database, org: Org) -> tuple[str, str]:
    """Two students with data in every table that can hold one: (the one, the other)."""
    admin = org.token()
    # A roster import creates both (import files, changes, keys).
    roster = (
        f"Student ID,Name,Year Group,Class\n{EXT},{NAME},8,R8\n{OTHER_EXT},{OTHER_NAME},8,R8\n"
    ).encode()
    from app.imports import processing

    started = (await upload(gql.http, admin, {"roster.csv": roster})).json()["data"]["startImport"]
    parsed = from_global_id(started["job"]["id"])
    assert parsed is not None
    await processing.process(db, parsed[1], batch_size=100, stale=timedelta(minutes=2))
    # And a second upload, still queued: its file's chunks are in the database until it runs.
    queued = await upload(gql.http, admin, {"roster-2.csv": roster})
    assert queued.json()["data"]["startImport"]["errors"] == []
    ids = {}
    for ext, name in ((EXT, NAME), (OTHER_EXT, OTHER_NAME)):
        body = await gql(
            UPSERT,
            {
                "input": {
                    "externalId": ext,
                    "name": name,
                    "supportLevel": 2,
                    "supportNotes": f"notes of {ext}",
                }
            },
            token=admin,
        )
        assert body["data"]["upsertStudent"]["errors"] == [], body
        ids[ext] = body["data"]["upsertStudent"]["student"]["id"]
    created = await gql(MUTATIONS["createIntegrationEndpoint"], token=admin)
    assert created["data"]["createIntegrationEndpoint"]["errors"] == []
    key, secret = await source(gql, org, "Tool")
    day = date.today().isoformat()
    for ext, sid in ids.items():
        v = {"s": sid, "n": f"{ext} threw a chair in science", "d": day}
        for name in ("logIncident", "recordAttendance", "recordAssessment", "createIntervention"):
            body = await gql(MUTATIONS[name], v, token=admin)
            assert "errors" not in body, body
        goal = await gql(MUTATIONS["createIepGoal"], {"s": sid}, token=admin)
        g = goal["data"]["createIepGoal"]["goal"]["id"]
        body = await gql(MUTATIONS["recordIepProbe"], {"g": g, "n": "cold read"}, token=admin)
        assert body["data"]["recordIepProbe"]["errors"] == []
        # An incident pushed in by another tool (inbound webhook).
        response = await post(gql, key, secret, message(ext, note=f"{ext} from the tool"))
        assert response.status_code in (200, 202), response.text
    await index(db, org)  # search documents of the notes
    return ids[EXT], ids[OTHER_EXT]


async def run_export(gql: GraphQLClient, db: Database, org: Org, sid: str, token: str) -> str:
    body = await gql(EXPORT, {"s": sid}, token=token)
    answer = body["data"]["exportStudentRecord"]
    assert answer["errors"] == [] and answer["file"]["status"] == "QUEUED"
    file_id = answer["file"]["id"]
    parsed = from_global_id(file_id)
    assert parsed is not None
    # The worker's job, in process (its body is all of it: arq only calls it).
    status = await jobs.build_student_record({"db": db}, str(org.id), str(parsed[1]))
    assert status == "READY"
    return file_id


def on_disk(root: Path, pattern: str) -> list[Path]:
    return list(root.rglob(pattern))


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FILES_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


async def test_the_export_holds_everything_about_the_student_and_nothing_else(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    sid, other = await rich_record(gql, db, org)
    file_id = await run_export(gql, db, org, sid, org.token())
    info = (await gql(FILE, {"id": file_id}, token=org.token()))["data"]["generatedFile"]
    assert info["status"] == "READY" and info["student"]["name"] == NAME
    response = await gql.http.get(
        info["downloadUrl"], headers={"Authorization": f"Bearer {org.token()}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    exported = {h.table for h in HOLDINGS if h.export}
    assert {f"data/{t}.json" for t in exported} | {"manifest.json", "summary.html"} == names
    # Every table that holds the student's rows gives all of them; tables with a student
    # column checked against the database directly.
    sid_uuid = from_global_id(sid)[1]  # type: ignore[index]
    async with db.transaction(org.id) as session:
        for table in org_tables():
            if table.name not in exported or "student_id" not in table.c:
                continue
            n = await session.scalar(
                text(f"SELECT count(*) FROM {table.name} WHERE student_id = :s"), {"s": sid_uuid}
            )
            rows = json.loads(archive.read(f"data/{table.name}.json"))
            assert len(rows) == n, table.name
            assert manifest["tables"][table.name] == n
    for table in (
        "students",
        "incidents",
        "attendance_days",
        "assessments",
        "interventions",
        "iep_goals",
        "iep_probes",
        "risk_assessments",
        "documents",
        "events",
        "audit_log",
        "webhook_deliveries",
        "inbound_webhooks",
        "import_changes",
    ):
        assert manifest["tables"][table] > 0, table
    # Nothing of the other student, anywhere in the archive.
    other_id = str(from_global_id(other)[1])  # type: ignore[index]
    for name in names:
        content = archive.read(name).decode()
        for needle in (other_id, OTHER_EXT, OTHER_NAME):
            assert needle not in content, (name, needle)
    summary = archive.read("summary.html").decode()
    assert NAME in summary and "threw a chair" in summary
    assert "embedding" not in archive.read("data/documents.json").decode()
    assert "import_file_chunks" in manifest["notExported"]


async def test_downloads_are_the_requesters_or_an_admins_until_they_expire(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    body = await gql(
        UPSERT, {"input": {"externalId": "DL1", "name": "Dee Load"}}, token=org.token()
    )
    sid = body["data"]["upsertStudent"]["student"]["id"]
    file_id = await run_export(gql, db, org, sid, org.token(sub="admin-one"))
    raw = from_global_id(file_id)[1]  # type: ignore[index]
    url = f"/files/{raw}"

    async def get(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return (await gql.http.get(url, headers=headers)).status_code

    assert await get(org.token(sub="admin-one")) == 200
    assert await get(org.token(sub="admin-two")) == 200  # any ADMIN of the school
    assert await get(org.token(Role.TEACHER, sub="admin-one")) == 404  # not the requester
    assert await get(org.token(Role.AIDE)) == 404
    assert await get(None) == 401
    from tests.conftest import make_org

    other = await make_org(db)
    assert await get(other.token()) == 404
    # Each download is audited.
    async with db.transaction(org.id) as session:
        downloads = await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'file.download.student_record'")
        )
    assert downloads == 2
    # Expired: the file is removed by the sweep, and the URL answers 410.
    async with db.transaction(org.id) as session:
        await session.execute(
            text(
                "UPDATE generated_files SET expires_at = now() - interval '1 minute' WHERE id = :i"
            ),
            {"i": raw},
        )
    assert await get(org.token()) == 410
    from app.records import files

    assert await files.expire(db, get_settings(), datetime.now(UTC)) >= 1
    assert not on_disk(files_dir, f"{raw}*")
    info = (await gql(FILE, {"id": file_id}, token=org.token()))["data"]["generatedFile"]
    assert info["status"] == "EXPIRED" and info["downloadUrl"] is None


async def test_only_admins_export_or_erase(gql: GraphQLClient, org: Org) -> None:
    body = await gql(UPSERT, {"input": {"externalId": "RL1", "name": "Roe Le"}}, token=org.token())
    sid = body["data"]["upsertStudent"]["student"]["id"]
    for role in (Role.TEACHER, Role.AIDE, Role.INTEGRATION):
        for document, variables in ((EXPORT, {"s": sid}), (ERASE, {"s": sid, "r": "x"})):
            body = await gql(document, variables, token=org.token(role))
            assert body["errors"][0]["message"].startswith("Not allowed"), role
            assert body["data"] is None
    body = await gql(ERASE, {"s": sid, "r": "  "}, token=org.token())
    assert body["data"]["eraseStudent"]["errors"] == [{"field": "reason", "code": "REQUIRED"}]
    body = await gql(
        ERASE, {"s": to_global_id("Student", uuid.uuid4()), "r": "x"}, token=org.token()
    )
    assert body["data"]["eraseStudent"]["errors"] == [{"field": "studentId", "code": "NOT_FOUND"}]


async def test_erasure_leaves_no_trace_in_any_org_table(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    sid, other = await rich_record(gql, db, org)
    await run_export(gql, db, org, sid, org.token())
    assert on_disk(files_dir, "*.zip")
    raw = from_global_id(sid)[1]  # type: ignore[index]
    before = await traces(db, org, raw, EXT, NAME)
    # The check itself finds the student where they are (so it can fail).
    for table in (
        "students",
        "incidents",
        "events",
        "audit_log",
        "webhook_deliveries",
        "import_file_chunks",
        "import_changes",
        "iep_probes",
        "documents",
        "inbound_webhooks",
        "generated_files",
    ):
        assert before.get(table), (table, before)
    other_raw = from_global_id(other)[1]  # type: ignore[index]
    other_before = await traces(db, org, other_raw, OTHER_EXT, OTHER_NAME)

    body = await gql(ERASE, {"s": sid, "r": "Left the school; parent request"}, token=org.token())
    erasure = body["data"]["eraseStudent"]
    assert erasure["errors"] == [], erasure
    tomb = erasure["erasure"]
    assert tomb["status"] == "ERASED" and tomb["reason"] == "Left the school; parent request"
    counts = {c["table"]: c["rows"] for c in tomb["counts"]}
    assert counts["students"] == 1 and counts["incidents"] == 2 and counts["iep_probes"] == 1

    assert await traces(db, org, raw, EXT, NAME) == {}
    # The tombstone names no student, and the other student keeps everything but the raw
    # import file they shared with the erased one.
    async with db.transaction(org.id) as session:
        row = (await session.execute(text("SELECT to_jsonb(e)::text FROM erasures e"))).scalar()
    assert row is not None and str(raw) not in row and NAME not in row and EXT not in row
    other_after = await traces(db, org, other_raw, OTHER_EXT, OTHER_NAME)
    assert other_after == {k: v for k, v in other_before.items() if k != "import_file_chunks"}
    # The files on disk: removed by the job, which verifies.
    tomb_id = from_global_id(tomb["id"])[1]  # type: ignore[index]
    assert await jobs.finish_erasure({"db": db}, str(org.id), str(tomb_id)) is True
    assert not on_disk(files_dir, "*.zip")
    body = await gql("{ erasures { status counts { table rows } } }", token=org.token())
    assert body["data"]["erasures"][0]["status"] == "VERIFIED"
    # Nothing refers to them in a way that comes back: the API knows no such student.
    body = await gql("query($id: ID!) { student(id: $id) { id } }", {"id": sid}, token=org.token())
    assert body["data"]["student"] is None


async def test_generated_files_and_tombstones_are_not_everyones(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    body = await gql(UPSERT, {"input": {"externalId": "GF1", "name": "Gee Eff"}}, token=org.token())
    sid = body["data"]["upsertStudent"]["student"]["id"]
    file_id = await run_export(gql, db, org, sid, org.token(sub="admin-one"))
    for token, seen in (
        (org.token(sub="admin-two"), True),  # any ADMIN
        (org.token(Role.TEACHER, sub="admin-one"), False),  # not the requester (role differs)
        (org.token(Role.AIDE), False),
        (org.token(Role.INTEGRATION), False),
    ):
        body = await gql(FILE, {"id": file_id}, token=token)
        assert (body["data"]["generatedFile"] is not None) is seen, token
    for role in (Role.TEACHER, Role.AIDE, Role.INTEGRATION):
        body = await gql("{ erasures { id } }", token=org.token(role))
        assert body["errors"][0]["message"].startswith("Not allowed"), role


async def test_the_audit_functions_keep_to_their_rules(db: Database, org: Org) -> None:
    """The two functions that may delete audit entries run as the owner: each checks for
    itself the org, the student's erasure and the retention policy."""
    from sqlalchemy.exc import DBAPIError

    from tests.conftest import make_org
    from tests.factories import make_student

    other = await make_org(db)
    alive = await make_student(db, org)
    calls = [
        ("SELECT erase_student_audit(:o, :s)", {"o": other.id, "s": uuid.uuid4()}),  # not ours
        ("SELECT erase_student_audit(:o, :s)", {"o": org.id, "s": alive.id}),  # not erased
        ("SELECT purge_audit(:o, now(), 10)", {"o": org.id}),  # no auditYears set
        ("SELECT purge_audit(:o, now() - interval '1 year', 10)", {"o": other.id}),
    ]
    for statement, bound in calls:
        with pytest.raises(DBAPIError, match=r"organisation|erased|retention"):
            async with db.transaction(org.id) as session:
                await session.execute(text(statement), bound)


async def test_a_file_whose_build_fails_is_failed_and_not_made_again(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    """files.make, the one run of every kind of file: a build that raises leaves the row
    FAILED with a reason; a run lost MAX_ATTEMPTS times is FAILED by the next start."""
    from app.records import files

    body = await gql(UPSERT, {"input": {"externalId": "FM1", "name": "Eff Em"}}, token=org.token())
    sid = body["data"]["upsertStudent"]["student"]["id"]
    queued = await gql(EXPORT, {"s": sid}, token=org.token())
    file_id = from_global_id(queued["data"]["exportStudentRecord"]["file"]["id"])[1]  # type: ignore[index]

    async def broken(row: Any) -> files.Output:
        raise RuntimeError("disk on fire")

    settings = get_settings()
    assert await files.make(db, settings, org.id, file_id, broken) is files.FileStatus.FAILED
    assert await files.make(db, settings, org.id, file_id, broken) is None  # not again
    info = await gql(FILE, {"id": to_global_id("GeneratedFile", file_id)}, token=org.token())
    assert info["data"]["generatedFile"]["status"] == "FAILED"

    again = await gql(EXPORT, {"s": sid}, token=org.token())
    lost = from_global_id(again["data"]["exportStudentRecord"]["file"]["id"])[1]  # type: ignore[index]
    for _ in range(files.MAX_ATTEMPTS):  # runs that began and never ended
        assert await files.start(db, org.id, lost) is not None
    assert await files.start(db, org.id, lost) is None
    info = await gql(FILE, {"id": to_global_id("GeneratedFile", lost)}, token=org.token())
    assert info["data"]["generatedFile"]["status"] == "FAILED"
