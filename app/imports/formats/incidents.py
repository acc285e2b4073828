"""Historical behaviour incidents: one incident a row.

Times: a date alone is taken at midnight, and a time without an offset (in the date cell or
in a separate time column) is taken as UTC; a time with an offset is converted to UTC.
"""

from __future__ import annotations

from datetime import datetime

from app.core import contracts
from app.imports.formats.base import Cells, Format, RowError, known
from app.imports.formats.records import IncidentRecord
from app.imports.kinds import ImportKind
from app.imports.reading import Column, Row, Table
from app.incidents.models import IncidentKind

COLUMNS = (
    Column(
        "external_id", "Student ID",
        ("student id", "student number", "sis id", "external id", "pupil id", "id"), required=True,
    ),
    Column(
        "occurred_at", "Date",
        (
            "date", "occurred at", "occurred", "incident date", "date time", "datetime",
            "timestamp", "logged at", "when",
        ),
        required=True,
    ),
    Column("time", "Time", ("time", "incident time")),
    Column(
        "kind", "Kind",
        ("kind", "polarity", "type", "behaviour type", "behavior type"),
        required=True,
    ),
    Column(
        "category", "Category",
        ("category", "reason", "behaviour", "behavior", "incident", "incident category"),
        required=True,
    ),
    Column("points", "Points", ("points", "point", "house points", "pts")),
    Column("note", "Note", ("note", "notes", "comment", "comments", "details", "description")),
    Column(
        "staff", "Staff",
        ("staff", "teacher", "staff member", "reported by", "logged by", "author", "recorded by"),
    ),
    Column("class_code", "Class", ("class", "class code", "lesson", "homeroom", "form")),
)  # fmt: skip

# A student's name beside the id helps whoever made the file: we map by id alone.
_IGNORED = known("Student Name", "Name", "Student", "First Name", "Last Name", "Surname")

KINDS = {
    "positive": IncidentKind.POSITIVE, "+": IncidentKind.POSITIVE,
    "merit": IncidentKind.POSITIVE, "pos": IncidentKind.POSITIVE,
    "negative": IncidentKind.NEGATIVE, "-": IncidentKind.NEGATIVE,
    "demerit": IncidentKind.NEGATIVE, "neg": IncidentKind.NEGATIVE,
    "neutral": IncidentKind.NEUTRAL, "neu": IncidentKind.NEUTRAL,
}  # fmt: skip
_KIND_HINT = "positive, negative or neutral (also +, -, merit or demerit)"


def _occurred_at(cells: Cells) -> datetime | None:
    found = cells.instant("occurred_at", required=True)
    at = cells.time("time") if cells.given("time") else None
    if found is None:
        return None
    instant, timed = found
    if at is not None and not timed:
        return instant.replace(hour=at.hour, minute=at.minute, second=at.second)
    return instant


def _parse(row: Row, table: Table) -> IncidentRecord | list[RowError] | None:
    cells = Cells(row, table, COLUMNS)
    if (problem := cells.problem()) is not None:
        return problem
    external_id = cells.text("external_id", contracts.ExternalId, required=True)
    occurred_at = _occurred_at(cells)
    kind = cells.choice("kind", KINDS, _KIND_HINT)
    if not cells.raw("kind"):
        cells.required(cells.header("kind"))
    category = cells.text("category", contracts.Category, required=True)
    points = cells.integer("points", contracts.Points)
    note = cells.text("note", contracts.Note)
    staff = cells.text("staff", contracts.Person)
    class_code = cells.text("class_code", contracts.ClassCode)
    if cells.errors or not (external_id and occurred_at and kind and category):
        return cells.errors
    return IncidentRecord(
        row=row.number,
        file=table.file,
        external_id=external_id,
        occurred_at=occurred_at,
        kind=kind,
        category=category,
        points=points,
        note=note,
        staff=staff,
        class_code=class_code,
    )


FORMAT = Format(ImportKind.INCIDENTS, "incidents", COLUMNS, _parse, uses=_IGNORED)
