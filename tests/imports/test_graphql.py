"""Imports through the API: startImport as a real GraphQL multipart request (with and without
the preflight header), the job and its errors in the graph, the error report CSV, roles,
and an internal error masked."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.db import Database
from app.imports import processing
from app.imports.kinds import ImportKind
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, Servers
from tests.imports.test_jobs import STALE, roster_csv, run, start
from tests.support import inserts_fail

START = """mutation Start($input: StartImportInput!) {
  startImport(input: $input) { job { id status kind dryRun files } errors { field message code } } }"""
JOB = """query Job($id: ID!) { importJob(id: $id) {
  id kind status processed inserted updated unchanged skipped failed createdStudents
  startedAt finishedAt errorReportUrl files
  errors(first: 10) { edges { node { row column value message code file } } } } }"""
NODE = """query Node($id: ID!) { node(id: $id) { __typename ... on ImportJob { status } } }"""
JOBS = """{ importJobs(first: 5) { edges { node { id kind status } } } }"""

ROSTER = (
    b"Student ID,Name,Year Group\n"
    b"G1,Ann Able,7\n"
    b'G2,"Bea, Bold",=1+1\n'  # row 3: a formula where a year group should be
    b"G3,Cy Calm,8\n"
)


async def upload(
    http: httpx.AsyncClient,
    token: str,
    files: dict[str, bytes],
    *,
    kind: str = "ROSTER",
    preflight: bool = True,
    dry_run: bool = False,
) -> httpx.Response:
    """POST /graphql as the GraphQL multipart request spec says."""
    names = list(files)
    operations = {
        "query": START,
        "variables": {"input": {"kind": kind, "files": [None] * len(names), "dryRun": dry_run}},
    }
    mapping = {str(i): [f"variables.input.files.{i}"] for i in range(len(names))}
    headers = {"Authorization": f"Bearer {token}"}
    if preflight:
        headers["GraphQL-Require-Preflight"] = "1"
    return await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
        files={str(i): (name, io.BytesIO(files[name]), "text/csv") for i, name in enumerate(names)},
        headers=headers,
    )


async def test_a_roster_uploaded_through_the_api_is_imported_and_reported(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    admin = org.token(Role.ADMIN)
    response = await upload(gql.http, admin, {"roster.csv": ROSTER})
    assert response.status_code == 200, response.text
    started = response.json()["data"]["startImport"]
    assert started["errors"] == []
    job = started["job"]
    assert (job["status"], job["kind"], job["files"], job["dryRun"]) == (
        "QUEUED",
        "ROSTER",
        ["roster.csv"],
        False,
    )

    # The worker's part, here in process (tests/imports/test_worker.py runs a real worker).
    from app.graphql.relay import from_global_id

    parsed = from_global_id(job["id"])
    assert parsed is not None
    await processing.process(db, parsed[1], batch_size=100, stale=STALE)

    teacher = org.token(Role.TEACHER)  # teachers may follow imports
    body = await gql(JOB, {"id": job["id"]}, token=teacher)
    seen = body["data"]["importJob"]
    assert (seen["status"], seen["processed"], seen["inserted"], seen["failed"]) == (
        "PARTIAL",
        3,
        2,
        1,
    )
    (error,) = [e["node"] for e in seen["errors"]["edges"]]
    assert (error["row"], error["column"], error["value"], error["file"]) == (
        3,
        "Year Group",
        "=1+1",
        "roster.csv",
    )
    node = await gql(NODE, {"id": job["id"]}, token=teacher)
    assert node["data"]["node"] == {"__typename": "ImportJob", "status": "PARTIAL"}
    listed = await gql(JOBS, token=admin)
    assert listed["data"]["importJobs"]["edges"][0]["node"]["id"] == job["id"]

    report = await gql.http.get(
        seen["errorReportUrl"], headers={"Authorization": f"Bearer {teacher}"}
    )
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "file,row,column,value,message,code"
    assert lines[1].startswith("roster.csv,3,Year Group,'=1+1,")  # never a formula
    anonymous = await gql.http.get(seen["errorReportUrl"])
    assert anonymous.status_code == 401


async def test_a_multipart_request_without_the_preflight_header_is_refused(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    response = await upload(gql.http, org.token(Role.ADMIN), {"r.csv": ROSTER}, preflight=False)
    assert response.status_code == 400
    assert "GraphQL-Require-Preflight" in response.text
    listed = await gql(JOBS, token=org.token(Role.ADMIN))
    assert listed["data"]["importJobs"]["edges"] == []  # nothing stored


async def test_who_may_import_and_who_may_see(gql: GraphQLClient, org: Org) -> None:
    # Refused before the form is read: a role that may not import sends no file to disk.
    for role in (Role.TEACHER, Role.AIDE):
        refused = await upload(gql.http, org.token(role), {"r.csv": ROSTER})
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await gql.http.post(
        "/graphql",
        data={"operations": "{}", "map": "{}"},
        files={"0": ("r.csv", io.BytesIO(ROSTER), "text/csv")},
        headers={"GraphQL-Require-Preflight": "1"},
    )
    assert anonymous.status_code == 401
    integration = await upload(gql.http, org.token(Role.INTEGRATION), {"r.csv": ROSTER})
    job_id = integration.json()["data"]["startImport"]["job"]["id"]
    aide = await gql(JOB, {"id": job_id}, token=org.token(Role.AIDE))
    assert aide["data"] is None or aide["data"]["importJob"] is None
    assert aide.get("errors")
    node = await gql(NODE, {"id": job_id}, token=org.token(Role.AIDE))
    assert node["data"]["node"] is None


async def test_a_file_given_as_a_plain_value_is_a_user_error(gql: GraphQLClient, org: Org) -> None:
    body = await gql(
        START, {"input": {"kind": "ROSTER", "files": ["not a file"]}}, token=org.token()
    )
    (error,) = body["data"]["startImport"]["errors"]
    assert (error["field"], error["code"]) == ("files[0]", "INVALID")


async def test_an_internal_error_while_starting_is_masked(
    gql: GraphQLClient, org: Org, servers: Servers, captured_log: io.StringIO
) -> None:
    async with inserts_fail(servers, org.id, "audit_log"):
        response = await upload(gql.http, org.token(Role.ADMIN), {"r.csv": ROSTER})
    body: dict[str, Any] = response.json()
    (error,) = body["errors"]
    assert error["message"] == "Internal server error"
    assert re.fullmatch(r"[0-9a-f]{16}", error["extensions"]["errorId"])
    assert "injected" not in response.text and "INSERT" not in response.text
    assert error["extensions"]["errorId"] in captured_log.getvalue()
    listed = await gql(JOBS, token=org.token(Role.ADMIN))
    assert listed["data"]["importJobs"]["edges"] == []  # rolled back whole


def test_job_ids_are_uuids() -> None:
    assert uuid.UUID(int=0)


STATS = """query Stats($from: DateTime!, $to: DateTime!) { importStats(from: $from, to: $to) {
  jobs succeeded partial failed rolledBack running successRate rowsProcessed rowsFailed
  rowsPerSecond medianDurationSeconds } }"""


async def test_import_stats_sum_up_the_period(gql: GraphQLClient, db: Database, org: Org) -> None:
    await run(db, await start(db, org, ImportKind.ROSTER, ("a.csv", roster_csv(10))))
    await run(db, await start(db, org, ImportKind.ROSTER, ("b.csv", ROSTER)))  # one bad row
    await run(db, await start(db, org, ImportKind.ROSTER, ("c.csv", b"")))  # failed
    await start(db, org, ImportKind.ROSTER, ("d.csv", ROSTER))  # still queued
    now = datetime.now(UTC)
    span = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    stats = (await gql(STATS, span, token=org.token(Role.TEACHER)))["data"]["importStats"]
    assert {k: stats[k] for k in ("jobs", "succeeded", "partial", "failed", "running")} == {
        "jobs": 4,
        "succeeded": 1,
        "partial": 1,
        "failed": 1,
        "running": 1,
    }
    assert stats["successRate"] == round(1 / 3, 4)
    assert (stats["rowsProcessed"], stats["rowsFailed"]) == (13, 1)
    assert stats["rowsPerSecond"] > 0 and stats["medianDurationSeconds"] >= 0
    earlier = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now - timedelta(days=1)).isoformat(),
    }
    assert (await gql(STATS, earlier, token=org.token()))["data"]["importStats"]["jobs"] == 0
    backwards = await gql(STATS, {"from": span["to"], "to": span["from"]}, token=org.token())
    assert backwards["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE"
