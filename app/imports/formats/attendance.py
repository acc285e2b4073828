"""Attendance, Aeries style: one row per student and day, an all-day code and period codes.

Period columns are found by their headers: Aeries' A0 … A9, or "Period 1", "P1", "Per 1".
A blank code means present (negative attendance). What a code means is the org's code
table's, which the import service applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core import contracts
from app.imports.formats.base import Cells, Format, PerTable, RowError, name_from_parts
from app.imports.formats.records import AttendanceRecord
from app.imports.kinds import ImportKind
from app.imports.reading import Column, Row, Table, normalise_header

# Without a scheduled-periods column or period columns, a day has this many periods.
DEFAULT_PERIODS = 6
_PERIOD = re.compile(r"(?:a|p|per|prd|period)\s?(\d{1,2})")

COLUMNS = (
    Column(
        "external_id",
        "Student ID",
        (
            "student id", "perm id", "permanent id", "pid", "student number", "student no",
            "stu id", "sis id", "external id", "id",
        ),
        required=True,
    ),
    Column(
        "day", "Date",
        ("date", "attendance date", "att date", "absence date", "school date", "day"),
        required=True,
    ),
    Column(
        "all_day_code",
        "All Day Code",
        (
            "all day code", "all day", "al", "all day attendance", "daily code", "day code",
            "attendance code", "code",
        ),
    ),
    Column("name", "Student Name", ("student name", "name", "student")),
    Column("last_name", "Last Name", ("last name", "student last name", "surname", "family name")),
    Column(
        "first_name", "First Name", ("first name", "student first name", "given name", "forename")
    ),
    Column(
        "scheduled_periods",
        "Scheduled Periods",
        ("scheduled periods", "periods", "periods scheduled", "total periods", "number of periods"),
    ),
)  # fmt: skip


def period_of(header: str) -> str | None:
    """'A0' -> '0', 'Period 1' / 'P1' / 'Per 01' -> '1'; None for any other header (a file
    whose periods start at 0 has them all counted from 1: see _plan)."""
    match = _PERIOD.fullmatch(normalise_header(header))
    if match is None:
        return None
    number = int(match[1])
    return str(number) if number <= contracts.Periods.int_bounds[1] else None


@dataclass(frozen=True)
class _Periods:
    columns: tuple[tuple[str, str], ...]  # (header, period), in file order

    @property
    def scheduled(self) -> int:
        return len(self.columns) or DEFAULT_PERIODS


def _plan(table: Table) -> _Periods:
    """The period columns, among the headers no Column took: the first for a period wins."""
    seen: set[str] = set()
    columns = []
    for header in table.unknown:
        period = period_of(header)
        if period is not None and period not in seen:
            seen.add(period)
            columns.append((header, period))
    if "0" in seen:  # numbered from 0 (Aeries' A0..A9): periods are counted from 1
        columns = [(header, str(int(period) + 1)) for header, period in columns]
    return _Periods(tuple(columns))


_periods = PerTable(_plan)


def _code(cells: Cells, column: str, value: str) -> str | None:
    code = cells.text_of(column, value, contracts.Code) if value else None
    return None if code is None else code.upper()


def _parse(row: Row, table: Table) -> AttendanceRecord | list[RowError] | None:
    cells = Cells(row, table, COLUMNS)
    if (problem := cells.problem()) is not None:
        return problem
    periods = _periods(table)
    external_id = cells.text("external_id", contracts.ExternalId, required=True)
    name = cells.text("name", contracts.Name) if cells.given("name") else None
    if name is None and (cells.given("first_name") or cells.given("last_name")):
        name = name_from_parts(cells, "first_name", "last_name")
    day = cells.day("day", required=True)
    all_day = cells.text("all_day_code", contracts.Code)
    codes: dict[str, str] = {}
    headers: dict[str, str] = {}
    for header, period in periods.columns:
        if (value := row.cells.get(header)) and (code := _code(cells, header, value)):
            codes[period] = code
            headers[period] = header
    scheduled = periods.scheduled
    if cells.raw("scheduled_periods"):
        scheduled = cells.integer("scheduled_periods", contracts.Periods) or scheduled
    if cells.errors or external_id is None or day is None:
        return cells.errors
    return AttendanceRecord(
        row=row.number,
        file=table.file,
        external_id=external_id,
        name=name,
        day=day,
        all_day_code=all_day.upper() if all_day else None,
        period_codes=codes,
        scheduled_periods=scheduled,
        period_headers=headers,
    )


def _uses(table: Table) -> set[str]:
    return {header for header, _ in _periods(table).columns}


FORMAT = Format(ImportKind.ATTENDANCE, "aeries", COLUMNS, _parse, uses=_uses)
