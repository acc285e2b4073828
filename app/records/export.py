"""A student's whole record, for a FERPA access request: a ZIP with one JSON file per
table that holds their data (app.records.footprint), every row as Postgres has it, and a
summary a parent can read (summary.html). Nothing of another student is in it: each
table's rows are chosen by the footprint's condition, and raw import files (which hold
other students' rows too) are left out and listed as such."""

from __future__ import annotations

import html
import io
import json
import uuid
import zipfile
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ErrorCode, ServiceError
from app.records.footprint import HOLDINGS, Holding, params
from app.students.models import Student

FORMAT_VERSION = 1


def _select(holding: Holding) -> str:
    omit = "".join(f" - '{column}'" for column in holding.omit)
    narrower = f" AND ({holding.export_where})" if holding.export_where else ""
    return (
        f"SELECT (to_jsonb(t){omit})::text FROM {holding.table} AS t"
        f" WHERE t.org_id = :org AND ({holding.where}){narrower} ORDER BY {holding.order}"
    )


async def record_rows(
    session: AsyncSession, *, org_id: uuid.UUID, student: Student
) -> dict[str, list[str]]:
    """Each exported table's rows about the student, as JSON text (in footprint order)."""
    bound = {"org": org_id, **params(student.id, student.external_id, student.name)}
    out: dict[str, list[str]] = {}
    for holding in HOLDINGS:
        if holding.export:
            rows = await session.execute(text(_select(holding)), bound)
            out[holding.table] = [r for (r,) in rows]
    return out


async def build(
    session: AsyncSession, *, org_id: uuid.UUID, student_id: uuid.UUID, school: str, now: datetime
) -> tuple[bytes, str]:
    """The ZIP's bytes and its download name."""
    student = await session.get(Student, student_id)
    if student is None or student.org_id != org_id:
        raise ServiceError.single("studentId", "no such student", ErrorCode.NOT_FOUND)
    rows = await record_rows(session, org_id=org_id, student=student)
    parsed = {table: [json.loads(r) for r in items] for table, items in rows.items()}
    manifest = {
        "format": FORMAT_VERSION,
        "generatedAt": now.astimezone(UTC).isoformat(),
        "school": school,
        "student": {"id": str(student.id), "externalId": student.external_id},
        "tables": {table: len(items) for table, items in rows.items()},
        "notExported": {h.table: h.why for h in HOLDINGS if not h.export},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for table, items in rows.items():
            # The rows as Postgres wrote them, joined without parsing them again.
            archive.writestr(f"data/{table}.json", "[\n" + ",\n".join(items) + "\n]\n")
        archive.writestr("summary.html", summary_html(student, parsed, school, now))
    slug = "".join(c if c.isalnum() else "-" for c in student.external_id)
    return buffer.getvalue(), f"student-record-{slug}-{now:%Y%m%d}.zip"


def _cell(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p class=none>None held.</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(
    student: Student, data: dict[str, list[dict[str, Any]]], school: str, now: datetime
) -> str:
    """The record in plain language: who, what we hold (counts), and the main entries."""
    profile = data["students"][0] if data.get("students") else {}
    counts = [[table, len(items)] for table, items in data.items()]
    incidents = [
        [
            i.get("occurred_at", "")[:16].replace("T", " "),
            i.get("kind"),
            i.get("category"),
            i.get("note"),
            "void" if i.get("voided_at") else "",
        ]
        for i in data.get("incidents", [])
    ]
    codes = Counter(
        d.get("all_day_code") or d.get("daily_status") for d in data.get("attendance_days", [])
    )
    attendance = [[code, n] for code, n in sorted(codes.items(), key=lambda kv: str(kv[0]))]
    assessments = [
        [
            a.get("taken_on"),
            a.get("subject"),
            a.get("kind"),
            a.get("scale_score") or a.get("score"),
            a.get("placement"),
        ]
        for a in data.get("assessments", [])
    ]
    goals = [
        [
            g.get("area"),
            g.get("title"),
            g.get("baseline"),
            g.get("target"),
            g.get("unit"),
            g.get("due_date"),
            g.get("status"),
        ]
        for g in data.get("iep_goals", [])
    ]
    probes = [
        [p.get("taken_at", "")[:10], p.get("value"), p.get("note")]
        for p in data.get("iep_probes", [])
    ]
    interventions = [
        [i.get("start_date"), i.get("end_date"), i.get("tier"), i.get("type"), i.get("status")]
        for i in data.get("interventions", [])
    ]
    risk = [
        [r.get("computed_at", "")[:16].replace("T", " "), r.get("tier"), r.get("trigger")]
        for r in data.get("risk_assessments", [])
    ]
    sections = [
        ("What we hold", _table(["Table", "Rows"], counts)),
        ("Incidents", _table(["When", "Kind", "Category", "Note", ""], incidents)),
        ("Attendance (days by code)", _table(["Code", "Days"], attendance)),
        ("Assessments", _table(["Date", "Subject", "Kind", "Score", "Placement"], assessments)),
        (
            "IEP goals",
            _table(["Area", "Goal", "Baseline", "Target", "Unit", "Due", "Status"], goals),
        ),
        ("IEP probes", _table(["Date", "Value", "Note"], probes)),
        ("Interventions", _table(["Start", "End", "Tier", "Type", "Status"], interventions)),
        ("Risk history", _table(["When", "Tier", "Why recomputed"], risk)),
    ]
    body = "".join(f"<h2>{html.escape(title)}</h2>{table}" for title, table in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Student record: {_cell(student.name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}
th,td{{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}}
th{{background:#eee}}.none{{color:#666}}</style></head><body>
<h1>Student record: {_cell(student.name)}</h1>
<p>{_cell(school)}. SIS id {_cell(student.external_id)}; class {_cell(profile.get("class_code"))},
year group {_cell(profile.get("year_group"))}. Support level {_cell(profile.get("support_level"))}:
{_cell(profile.get("support_notes"))}</p>
<p>Generated {_cell(now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))}. Every row we hold
is in the <code>data/</code> folder of this archive, one JSON file per table.</p>
{body}</body></html>
"""
