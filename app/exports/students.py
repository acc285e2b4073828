"""The student export: one row per student (the filters of `students`), with what a head of
year pastes back into the school's own sheet: class, year group, risk tier and its factors,
incidents in the last 30 days, attendance rate, latest diagnostic placements. Built from the
same services the graph reads (one statement per section, however many students), written
as CSV (UTF-8 with a BOM) or XLSX, every text cell neutralised against formula injection."""

from __future__ import annotations

import csv
import enum
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import service as assessments
from app.attendance import service as attendance
from app.imports.report import cell
from app.incidents.models import Incident, IncidentKind
from app.students import service as students
from app.students.models import Student

HEADER = (
    "External ID",
    "Name",
    "Class",
    "Year group",
    "Campus",
    "Risk tier",
    "Risk factors",
    "Negative incidents (30 days)",
    "Positive incidents (30 days)",
    "Attendance rate (%)",
    "Latest diagnostics",
)
MAX_ROWS = 20_000


class ExportFormat(enum.StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"


async def rows(
    session: AsyncSession, *, org_id: uuid.UUID, flt: students.StudentFilter | None, now: datetime
) -> list[tuple[Any, ...]]:
    found: Sequence[Student] = (
        (
            await session.execute(
                students.filtered(org_id, flt).order_by(Student.name, Student.id).limit(MAX_ROWS)
            )
        )
        .scalars()
        .all()
    )
    ids = [s.id for s in found]
    counts: dict[tuple[uuid.UUID, IncidentKind], int] = {
        (sid, kind): n
        for sid, kind, n in await session.execute(
            select(Incident.student_id, Incident.kind, func.count())
            .where(
                Incident.org_id == org_id,
                Incident.student_id.in_(ids),
                Incident.voided_at.is_(None),
                Incident.occurred_at >= now - timedelta(days=30),
            )
            .group_by(Incident.student_id, Incident.kind)
        )
    }
    rates = await attendance.summaries(session, org_id=org_id, student_ids=ids)
    diagnostics = await assessments.latest_diagnostics(session, org_id=org_id, student_ids=ids)
    out = []
    for s in found:
        rate = rates[s.id].rate if s.id in rates else None
        factors = [f.get("indicator", "") for f in s.risk_factors or [] if f.get("triggered")]
        placed = "; ".join(
            f"{a.subject}: {a.placement or a.relative_placement or '-'}"
            for a in diagnostics.get(s.id, [])
        )
        out.append(
            (
                s.external_id,
                s.name,
                s.class_code or "",
                s.year_group if s.year_group is not None else "",
                s.campus or "",
                s.risk_tier,
                ", ".join(factors),
                counts.get((s.id, IncidentKind.NEGATIVE), 0),
                counts.get((s.id, IncidentKind.POSITIVE), 0),
                round(rate * 100, 1) if rate is not None else "",
                placed,
            )
        )
    return out


def _safe(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run (=, +, -, @ …) gets a
    leading apostrophe (OWASP's CSV injection advice)."""
    return value if isinstance(value, int | float) else cell(value)


def as_csv(data: list[tuple[Any, ...]]) -> bytes:
    return csv_bytes(HEADER, data)


def csv_bytes(header: Sequence[str], data: Iterable[Sequence[Any]]) -> bytes:
    """A CSV a spreadsheet opens safely: UTF-8 with a BOM, no cell run as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(tuple(_safe(v) for v in row) for row in data)
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM: spreadsheets then read UTF-8


def as_xlsx(data: list[tuple[Any, ...]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Students")
    sheet.append(list(HEADER))
    for row in data:
        # openpyxl writes a string starting with "=" as a formula: never, here.
        sheet.append([_safe(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
