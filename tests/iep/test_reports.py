"""IEP progress reports: real PDF and DOCX documents read back as readers would, the same
progress codes as the API, a constant number of statements, who may ask and download,
narratives, the caseload ZIP, erasure and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.config import get_settings
from app.db import Database
from app.graphql.relay import from_global_id
from app.iep import reports
from app.orgs.models import Role
from app.records import jobs
from tests.conftest import GraphQLClient, Org, Servers, counting_statements
from tests.core.test_cli import _cli
from tests.iep.test_iep_api import PROBES, make_goal, weeks_ago

POLISH = "Zofia Łukasiewicz-Müller"
ARABIC = "ليلى حداد"
UPSERT = """mutation($input: UpsertStudentInput!) { upsertStudent(input: $input) {
  student { id } errors { field } } }"""
SUPPORT = """mutation($input: UpdateStudentSupportInput!) { updateStudentSupport(input: $input) {
  student { caseManager } errors { field code } } }"""
REPORT = """mutation($input: IepProgressReportInput!) { iepProgressReport(input: $input) {
  file { id kind status } errors { field message code } } }"""
CASELOAD = """mutation($input: IepProgressReportsInput!) { iepProgressReports(input: $input) {
  file { id kind status } errors { field message code } } }"""
NARRATIVE = """mutation($input: SetIepGoalNarrativeInput!) { setIepGoalNarrative(input: $input) {
  narrative { periodStart periodEnd text writtenBy } errors { field code } } }"""
CODES = """query($id: ID!) { student(id: $id) { iepGoals { title progress { code } } } }"""

START = date.today() - timedelta(days=60)
END = date.today()


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FILES_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


async def student(gql: GraphQLClient, org: Org, ext: str, name: str, cls: str = "IEPR") -> str:
    body = await gql(
        UPSERT,
        {"input": {"externalId": ext, "name": name, "classCode": cls, "yearGroup": 6}},
        token=org.token(),
    )
    sid: str = body["data"]["upsertStudent"]["student"]["id"]
    return sid


async def probes(gql: GraphQLClient, org: Org, goal: str, values: list[float]) -> None:
    n = len(values)
    body = await gql(
        PROBES,
        {
            "input": {
                "probes": [
                    {"goalId": goal, "value": v, "takenAt": weeks_ago(n - 1 - i), "note": f"p{i}"}
                    for i, v in enumerate(values)
                ]
            }
        },
        token=org.token(Role.TEACHER),
    )
    assert body["data"]["recordIepProbes"]["errors"] == []


async def school(gql: GraphQLClient, org: Org) -> dict[str, Any]:
    """Two students with goals in several states, and one without a goal."""
    polish = await student(gql, org, "R-PL", POLISH)
    arabic = await student(gql, org, "R-AR", ARABIC)
    await student(gql, org, "R-NONE", "Nora Nogoal")
    body = await gql(
        SUPPORT, {"input": {"studentId": polish, "caseManager": "Ms. Ana Ñúñez"}}, token=org.token()
    )
    assert body["data"]["updateStudentSupport"]["student"]["caseManager"] == "Ms. Ana Ñúñez"
    goals = {
        "rising": await make_goal(gql, org, polish, title="Reads 80 words correct a minute"),
        "flat": await make_goal(gql, org, polish, title="Writes a five-sentence paragraph"),
        "untouched": await make_goal(gql, org, polish, title="Solves two-step word problems"),
        "calmer": await make_goal(
            gql,
            org,
            arabic,
            area="Behaviour",
            title="Fewer than 2 outbursts a day",
            baseline=10,
            target=2,
            direction="DECREASE",
            unit="outbursts a day",
        ),
    }
    await probes(gql, org, goals["rising"], [44, 46, 48, 50])
    await probes(gql, org, goals["flat"], [40, 40, 40, 40])
    await probes(gql, org, goals["calmer"], [9, 8, 7])
    body = await gql(
        NARRATIVE,
        {
            "input": {
                "goalId": goals["rising"],
                "periodStart": START.isoformat(),
                "periodEnd": END.isoformat(),
                "text": "Zofia reads with more expression every week.",
            }
        },
        token=org.token(Role.TEACHER),
    )
    assert body["data"]["setIepGoalNarrative"]["errors"] == [], body
    return {"polish": polish, "arabic": arabic, "goals": goals}


async def codes_by_title(gql: GraphQLClient, org: Org, sid: str) -> dict[str, str]:
    body = await gql(CODES, {"id": sid}, token=org.token())
    return {g["title"]: g["progress"]["code"] for g in body["data"]["student"]["iepGoals"]}


async def make_report(
    gql: GraphQLClient, db: Database, org: Org, sid: str, fmt: str, token: str
) -> tuple[str, bytes]:
    body = await gql(
        REPORT,
        {
            "input": {
                "studentId": sid,
                "periodStart": START.isoformat(),
                "periodEnd": END.isoformat(),
                "format": fmt,
            }
        },
        token=token,
    )
    answer = body["data"]["iepProgressReport"]
    assert answer["errors"] == [] and answer["file"]["kind"] == "IEP_REPORT", answer
    file_id = from_global_id(answer["file"]["id"])[1]  # type: ignore[index]
    assert await jobs.build_iep_report({"db": db}, str(org.id), str(file_id)) == "READY"
    response = await gql.http.get(f"/files/{file_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(file_id), response.content


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def test_pdf_and_docx_hold_the_names_goals_and_codes(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    data = await school(gql, org)
    teacher = org.token(Role.TEACHER, sub="ms-teacher")
    for key, name in (("polish", POLISH), ("arabic", ARABIC)):
        codes = await codes_by_title(gql, org, data[key])
        for fmt, read in (("PDF", pdf_text), ("DOCX", docx_text)):
            _, content = await make_report(gql, db, org, data[key], fmt, teacher)
            found = read(content)
            assert name in found, (fmt, name)
            for title, code in codes.items():
                assert title in found, (fmt, title)
                # The code printed is IepGoal.progress's (one rule), with its meaning.
                assert f"Progress code: {code}" in found, (fmt, title, code)
            assert "Reporting period" in found and START.isoformat() in found
            assert "Progress codes" in found and "NOT_INTRODUCED" in found
    codes = await codes_by_title(gql, org, data["polish"])
    assert set(codes.values()) == {"SUFFICIENT", "NONE", "NOT_INTRODUCED"}
    _, content = await make_report(gql, db, org, data["polish"], "PDF", teacher)
    found = pdf_text(content)
    assert "Zofia reads with more expression every week." in found
    assert reports.NO_NARRATIVE in found  # the goals without one say so
    assert "Ms. Ana Ñúñez" in found and "Case manager" in found
    # The PDF is text, with its font embedded (not a picture of text).
    reader = PdfReader(io.BytesIO(content))
    fonts = {
        f["/BaseFont"]
        for page in reader.pages
        for ref in (page["/Resources"].get("/Font") or {}).values()  # type: ignore[union-attr]
        for f in [ref.get_object()]
    }
    assert any("DejaVu" in str(f) for f in fonts), fonts
    assert reader.metadata is not None and POLISH in str(reader.metadata.title)


async def test_a_report_is_read_in_constant_statements(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    data = await school(gql, org)

    async def count(ids: list[uuid.UUID]) -> int:
        with counting_statements(db) as counter:
            async with db.transaction(org.id) as session:
                found = await reports.gather(
                    session,
                    org_id=org.id,
                    student_ids=ids,
                    period_start=START,
                    period_end=END,
                    now=datetime.now(UTC),
                )
        assert len(found) == len(ids)
        return len(counter.data_statements)

    one = from_global_id(data["arabic"])[1]  # type: ignore[index]
    two = from_global_id(data["polish"])[1]  # type: ignore[index]
    assert await count([one]) == await count([one, two]) == 5


async def test_who_may_ask_and_download(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    data = await school(gql, org)
    variables = {
        "input": {
            "studentId": data["arabic"],
            "periodStart": START.isoformat(),
            "periodEnd": END.isoformat(),
            "format": "PDF",
        }
    }
    for role in (Role.AIDE, Role.INTEGRATION):
        body = await gql(REPORT, variables, token=org.token(role))
        assert body["errors"][0]["message"].startswith("Not allowed"), role
    teacher = org.token(Role.TEACHER, sub="t-one")
    file_id, _ = await make_report(gql, db, org, data["arabic"], "PDF", teacher)

    async def get(token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return (await gql.http.get(f"/files/{file_id}", headers=headers)).status_code

    assert await get(org.token(Role.ADMIN, sub="head")) == 200
    assert await get(org.token(Role.TEACHER, sub="t-two")) == 404
    assert await get(org.token(Role.AIDE, sub="t-one")) == 404
    assert await get(None) == 401
    # Audited: who asked, for which student and period, and each download.
    async with db.transaction(org.id) as session:
        rows = (
            await session.execute(
                text(
                    "SELECT action, actor_sub, after->'params' FROM audit_log"
                    " WHERE action LIKE 'file.%iep_report' ORDER BY id"
                )
            )
        ).all()
    actions = [(a, s) for a, s, _ in rows]
    assert actions[0] == ("file.request.iep_report", "t-one")
    assert ("file.download.iep_report", "head") in actions
    params = rows[0][2]
    assert params["periodStart"] == START.isoformat() and params["periodEnd"] == END.isoformat()
    assert params["studentIds"] == [str(from_global_id(data["arabic"])[1])]  # type: ignore[index]
    # Bad periods are named.
    bad = {**variables["input"], "periodEnd": (START - timedelta(days=1)).isoformat()}
    body = await gql(REPORT, {"input": bad}, token=teacher)
    assert body["data"]["iepProgressReport"]["errors"][0]["field"] == "periodEnd"


async def test_a_caseload_zip_with_a_summary_and_progress_events(
    gql: GraphQLClient, db: Database, org: Org, files_dir: Path
) -> None:
    data = await school(gql, org)
    admin = org.token()
    body = await gql(
        CASELOAD,
        {
            "input": {
                "classCode": "IEPR",
                "periodStart": START.isoformat(),
                "periodEnd": END.isoformat(),
                "format": "DOCX",
            }
        },
        token=admin,
    )
    answer = body["data"]["iepProgressReports"]
    assert answer["errors"] == [] and answer["file"]["kind"] == "IEP_REPORTS", answer
    file_id = from_global_id(answer["file"]["id"])[1]  # type: ignore[index]
    assert await jobs.build_iep_report({"db": db}, str(org.id), str(file_id)) == "READY"
    response = await gql.http.get(f"/files/{file_id}", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    period = f"{START.isoformat()}-to-{END.isoformat()}"
    # Two students have goals in the period; the third has none and gets no file.
    assert names == sorted(
        [
            f"iep-progress-zofia-lukasiewicz-muller-r-pl-{period}.docx",
            f"iep-progress-student-r-ar-{period}.docx",
            "summary.csv",
        ]
    ), names
    summary = list(csv.DictReader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    assert len(summary) == 4
    assert {r["goal"]: r["code"] for r in summary} == {
        **await codes_by_title(gql, org, data["polish"]),
        **await codes_by_title(gql, org, data["arabic"]),
    }
    assert ARABIC in docx_text(archive.read(f"iep-progress-student-r-ar-{period}.docx"))
    assert POLISH in docx_text(
        archive.read(f"iep-progress-zofia-lukasiewicz-muller-r-pl-{period}.docx")
    )
    async with db.transaction(org.id) as session:
        progress = [
            p
            for (p,) in await session.execute(
                text("SELECT payload FROM events WHERE topic = 'file.progress' ORDER BY id")
            )
        ]
    assert [(p["done"], p["total"], p["status"]) for p in progress] == [
        (1, 2, "RUNNING"),
        (2, 2, "RUNNING"),
        (2, 2, "READY"),
    ]
    # The caseload's file is erased with any of its students.
    body = await gql(
        'mutation($s: ID!) { eraseStudent(studentId: $s, reason: "left") { erasure { id counts { table rows } } errors { code } } }',
        {"s": data["arabic"]},
        token=admin,
    )
    erasure = body["data"]["eraseStudent"]["erasure"]
    counts = {c["table"]: c["rows"] for c in erasure["counts"]}
    assert counts["generated_files"] == 1 and counts["iep_goals"] == 1
    tomb = from_global_id(erasure["id"])[1]  # type: ignore[index]
    assert await jobs.finish_erasure({"db": db}, str(org.id), str(tomb)) is True
    assert not await asyncio.to_thread(lambda: list(files_dir.rglob(f"{file_id}*")))


async def test_the_cli_writes_a_report(
    gql: GraphQLClient, org: Org, servers: Servers, tmp_path: Path
) -> None:
    await school(gql, org)
    out = tmp_path / "report.pdf"
    result = await asyncio.to_thread(
        _cli,
        servers,
        "iep-report",
        "--data-dir",
        str(tmp_path / "data"),
        "--org",
        org.slug,
        "--student",
        "R-PL",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
        "--format",
        "pdf",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    content = await asyncio.to_thread(out.read_bytes)
    assert POLISH in pdf_text(content)
    missing = await asyncio.to_thread(
        _cli,
        servers,
        "iep-report",
        "--org",
        org.slug,
        "--student",
        "NOPE",
        "--from",
        START.isoformat(),
        "--to",
        END.isoformat(),
    )
    assert missing.returncode == 1 and "no student" in missing.stderr
