"""The student export, as a head of year downloads it: the filters of `students`, the
figures of the graph, CSV and XLSX, and text a spreadsheet would run kept as text."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.db import Database
from app.incidents.models import IncidentKind
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.factories import log, make_student

QUERY = """query($f: StudentFilter, $fmt: ExportFormat!) {
  exportStudents(filter: $f, format: $fmt) { url format } }"""


async def _school(db: Database, org: Org) -> None:
    risky = await make_student(
        db,
        org,
        name='=HYPERLINK("http://x","Ann")',
        external_id="S-1",
        class_code="7A",
        campus="+cmd|' /C calc'!A0",
    )
    await make_student(
        db, org, name="Ben @SUM", external_id="-2", class_code="7A", campus="@SUM(A1:A2)"
    )
    await make_student(db, org, name="Cal Other", external_id="S-3", class_code="8C")
    for _ in range(2):
        await log(db, org, risky.id)
    await log(db, org, risky.id, IncidentKind.POSITIVE)


async def test_the_csv_export_filters_counts_and_neutralises_formulas(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    await _school(db, org)
    token = org.token(Role.TEACHER)
    answer = await gql(QUERY, {"f": {"classCode": "7A"}, "fmt": "CSV"}, token=token)
    url = answer["data"]["exportStudents"]["url"]
    assert url == "/exports/students.csv?classCode=7A"
    response = await gql.http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["External ID", "Name", "Class"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"S-1", "'-2"}  # a leading minus is neutralised too
    ann = by_id["S-1"]
    assert ann[1].startswith("'=HYPERLINK")
    assert (ann[7], ann[8]) == ("2", "1")  # negatives, positives in 30 days
    assert by_id["'-2"][1] == "Ben @SUM"  # only a leading sign is one
    assert ann[4] == "'+cmd|' /C calc'!A0" and by_id["'-2"][4] == "'@SUM(A1:A2)"


async def test_the_xlsx_export_keeps_text_as_text(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    await _school(db, org)
    token = org.token(Role.ADMIN)
    answer = await gql(QUERY, {"f": None, "fmt": "XLSX"}, token=token)
    url = answer["data"]["exportStudents"]["url"]
    assert url == "/exports/students.xlsx"
    response = await gql.http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "External ID" and len(values) == 4
    names = {row[1] for row in values[1:]}
    assert '\'=HYPERLINK("http://x","Ann")' in names
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


async def test_the_export_needs_a_staff_token_and_a_good_filter(
    gql: GraphQLClient, org: Org
) -> None:
    url = "/exports/students.csv"
    assert (await gql.http.get(url)).status_code == 401
    aide = {"Authorization": f"Bearer {org.token(Role.AIDE)}"}
    assert (await gql.http.get(url, headers=aide)).status_code == 403
    teacher = {"Authorization": f"Bearer {org.token(Role.TEACHER)}"}
    bad = await gql.http.get(url + "?yearGroup=ten", headers=teacher)
    assert bad.status_code == 400 and "yearGroup" in bad.json()["error"]
    assert (await gql.http.get("/exports/students.pdf", headers=teacher)).status_code == 404
