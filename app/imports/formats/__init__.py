"""Import formats: how each kind of file's rows become records (the types and row-local
business rules of import validation), on top of app.imports.reading's file and header
layers. Pure: the student mapping, the org's codes and school year, and duplicates are the
import service's."""

from __future__ import annotations

from collections.abc import Iterable

from app.imports.formats import attendance, incidents, iready, roster
from app.imports.formats.base import Format, RowError
from app.imports.formats.records import (
    AttendanceRecord,
    IncidentRecord,
    IreadyRecord,
    Record,
    RosterRecord,
)
from app.imports.kinds import ImportKind
from app.imports.reading import Column, FileProblem, Row, Table, open_table

__all__ = [
    "AttendanceRecord",
    "Column",
    "FileProblem",
    "Format",
    "IncidentRecord",
    "IreadyRecord",
    "Record",
    "RosterRecord",
    "Row",
    "RowError",
    "Table",
    "choose_format",
    "open_format",
]

_FORMATS = {
    ImportKind.ATTENDANCE: attendance.FORMAT,
    ImportKind.IREADY: iready.FORMAT,
    ImportKind.INCIDENTS: incidents.FORMAT,
}


def choose_format(kind: ImportKind, headers: list[str]) -> Format:
    """The layout of `kind` these headers are (a roster: OneRoster or the sheet)."""
    if kind is ImportKind.ROSTER:
        return roster.choose(headers)
    return _FORMATS[kind]


def open_format(kind: ImportKind, file: str, chunks: Iterable[bytes]) -> tuple[Format, Table]:
    """Open a file of `kind`: its layout chosen from its headers, its table ready to stream
    rows through `Format.parse`. Raises FileProblem for the file and header layers."""
    table = open_table(file, chunks, lambda headers: choose_format(kind, headers).columns)
    return choose_format(kind, table.headers), table
