"""What every format shares: the row error, the Format itself, and reading typed cells.

A row's problems are collected, never raised: one bad cell is one RowError naming the
column as the file spells it, and the row's other cells are still checked, so a row's
report is complete. Messages name the column and the rule; they never quote a cell (the
value travels in `RowError.value`, and messages may reach logs, which hold no names).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Generic, TypeVar

from app.core import contracts
from app.core.errors import ErrorCode
from app.core.text import control_character, normalise
from app.imports.formats.records import Record
from app.imports.kinds import ImportKind
from app.imports.reading import REPLACEMENT, Column, Row, Table, header_key

# A value quoted in an error report is cut to this many characters.
MAX_SHOWN = 200
DATE_HINT = "a date such as 2025-09-10 or 9/10/2025"


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str | None  # the header as in the file (its label when the file has none)
    value: str | None  # the cell, cut to MAX_SHOWN characters; None when blank or absent
    message: str
    code: ErrorCode
    file: str


Parse = Callable[[Row, Table], Record | list[RowError] | None]


def _uses_nothing(table: Table) -> Collection[str]:
    return ()


@dataclass(frozen=True)
class Format:
    """How one layout of one kind is read. `parse` returns a record, the row's errors, or
    None for a row skipped on purpose (a OneRoster teacher). `uses` gives the headers
    outside `columns` that the format still reads or knowingly ignores (period and domain
    columns, a standard export's columns of no use to us)."""

    kind: ImportKind
    layout: str
    columns: tuple[Column, ...]
    parse: Parse
    uses: Callable[[Table], Collection[str]] = _uses_nothing

    def unknown_columns(self, table: Table) -> list[str]:
        """The headers this format does not use at all: worth a warning, not a failure."""
        used, taken, unknown = self.uses(table), set(), []
        for header in table.unknown:  # a second column of one spelling is not read
            if header in used and header not in taken:
                taken.add(header)
            else:
                unknown.append(header)
        return unknown


def known(*headers: str) -> Callable[[Table], Collection[str]]:
    """A `uses`: the headers spelled as one of these (compared as headers are)."""
    keys = frozenset(header_key(h) for h in headers)
    return lambda table: {h for h in table.unknown if header_key(h) in keys}


P = TypeVar("P")


class PerTable(Generic[P]):
    """What a format works out once from a table's headers (its period or domain columns),
    remembered while the table lives."""

    def __init__(self, plan: Callable[[Table], P]) -> None:
        self._plan = plan
        self._plans: weakref.WeakKeyDictionary[Table, P] = weakref.WeakKeyDictionary()

    def __call__(self, table: Table) -> P:
        found = self._plans.get(table)
        if found is None:
            found = self._plans[table] = self._plan(table)
        return found


_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")
_ISO_DAY = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?")
# A date cell may carry a time (Excel writes midnight): the date part is what counts.
_TRAILING_TIME = re.compile(r"(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?)?")


def parse_day(text: str) -> date | None:
    """YYYY-MM-DD (or YYYY/MM/DD), M/D/YYYY, MM/DD/YYYY or M/D/YY (20YY); None if none."""
    text = text.strip()
    for pattern, order in ((_ISO_DAY, (0, 1, 2)), (_US_DAY, (2, 0, 1))):
        match = pattern.match(text)
        if match and _TRAILING_TIME.fullmatch(text, match.end()):
            parts = match.groups()
            year, month, day = (parts[i] for i in order)
            try:
                return date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
            except ValueError:
                return None
    return None


def parse_time(text: str) -> time | None:
    """14:30, 14:30:15, 2:30 PM; None if none."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if meridiem := match[4]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    try:
        return time(hour, minute, second)
    except ValueError:
        return None


def parse_instant(text: str) -> tuple[datetime, bool] | None:
    """(instant in UTC, whether the text gave a time): a date, or a date and time (ISO 8601
    with or without an offset, or M/D/YYYY h:mm [AM|PM]). Naive times are taken as UTC."""
    text = text.strip()
    for pattern in (_ISO_DAY, _US_DAY):
        match = pattern.match(text)
        if match is None:
            continue
        day = parse_day(match.group())
        rest = text[match.end() :].strip().removeprefix("T").strip()
        if day is None:
            return None
        if not rest:
            return datetime.combine(day, time(), UTC), False
        if (at := parse_time(rest)) is not None:
            return datetime.combine(day, at, UTC), True
        if pattern is _ISO_DAY:
            try:
                stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if stamp.tzinfo is None:
                return stamp.replace(tzinfo=UTC), True
            return stamp.astimezone(UTC), True
        return None
    return None


def _shown(value: str | None) -> str | None:
    if not value:
        return None
    return value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…"


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


class Cells:
    """One row's cells read as typed values. Each reader takes the column's canonical name
    (or, for a format's own dynamic columns, a header and its cell) and returns the clean
    value, or None with a RowError added."""

    def __init__(self, row: Row, table: Table, columns: Sequence[Column]) -> None:
        self.row = row
        self.table = table
        self._columns = columns
        self.errors: list[RowError] = []

    def given(self, name: str) -> bool:
        """Whether the file has this column."""
        return name in self.table.mapping

    def header(self, name: str) -> str:
        index = self.table.mapping.get(name)
        if index is not None:
            return self.table.headers[index]
        return next(c.label for c in self._columns if c.name == name)

    def raw(self, name: str) -> str:
        return self.row.values.get(name, "")

    def add(self, column: str | None, value: str | None, message: str, code: ErrorCode) -> None:
        self.errors.append(
            RowError(self.row.number, column, _shown(value), message, code, self.table.file)
        )

    def required(self, column: str) -> None:
        self.add(column, None, f"{column} is required", ErrorCode.REQUIRED)

    # Readers of one cell, given its header.

    def text_of(
        self, column: str, value: str, contract: contracts.Contract, *, required: bool = False
    ) -> str | None:
        """NFC text within the contract's length, without control characters or bytes the
        file's encoding could not read; None when blank."""
        value = value.strip()
        if not value:
            if required:
                self.required(column)
            return None
        if REPLACEMENT in value:
            self.add(
                column,
                value,
                f"{column} holds bytes that are not valid {self.table.encoding} text",
                ErrorCode.INVALID_CHARACTERS,
            )
            return None
        if (char := control_character(value)) is not None:
            self.add(
                column,
                value,
                f"{column} contains a control character ({char}) that text may not hold",
                ErrorCode.INVALID_CHARACTERS,
            )
            return None
        value = normalise(value)
        if len(value) > contract.length:
            self.add(
                column,
                value,
                f"{column} must be at most {contract.length} characters",
                ErrorCode.TOO_LONG,
            )
            return None
        return value

    def number_of(self, column: str, value: str, bounds: tuple[float, float]) -> float | None:
        """A whole number within `bounds` (Excel's "512.0" is one); None when blank."""
        value = value.strip()
        if not value:
            return None
        if not _INTEGER.fullmatch(value):
            self.add(column, value, f"{column} must be a whole number", ErrorCode.INVALID)
            return None
        number = float(value)
        low, high = bounds
        if not low <= number <= high:
            self.add(
                column,
                value,
                f"{column} must be between {_num(low)} and {_num(high)}",
                ErrorCode.OUT_OF_RANGE,
            )
            return None
        return number

    def day_of(self, column: str, value: str, *, required: bool = False) -> date | None:
        value = value.strip()
        if not value:
            if required:
                self.required(column)
            return None
        day = parse_day(value)
        if day is None:
            self.add(column, value, f"{column} must be {DATE_HINT}", ErrorCode.INVALID)
            return None
        return day if self._in_window(column, value, day) else None

    def _in_window(self, column: str, value: str, day: date) -> bool:
        earliest, latest = contracts.EARLIEST, contracts.LATEST
        if earliest <= day <= latest:
            return True
        self.add(
            column,
            value,
            f"{column} must be between {earliest.isoformat()} and {latest.isoformat()}",
            ErrorCode.OUT_OF_RANGE,
        )
        return False

    # Readers of a mapped column, by its canonical name.

    def text(
        self, name: str, contract: contracts.Contract, *, required: bool = False
    ) -> str | None:
        value = self.raw(name)
        if not value and not required:
            return None
        return self.text_of(self.header(name), value, contract, required=required)

    def integer(
        self, name: str, contract: contracts.Contract, *, required: bool = False
    ) -> int | None:
        column, value = self.header(name), self.raw(name)
        if required and not value:
            self.required(column)
            return None
        number = self.number_of(column, value, contract.bounds)
        return None if number is None else int(number)

    def day(self, name: str, *, required: bool = False) -> date | None:
        return self.day_of(self.header(name), self.raw(name), required=required)

    def instant(self, name: str, *, required: bool = False) -> tuple[datetime, bool] | None:
        """(instant in UTC, whether a time was given); see parse_instant."""
        column, value = self.header(name), self.raw(name)
        if not value:
            if required:
                self.required(column)
            return None
        found = parse_instant(value)
        if found is None:
            self.add(
                column,
                value,
                f"{column} must be {DATE_HINT}, with a time or without",
                ErrorCode.INVALID,
            )
            return None
        return found if self._in_window(column, value, found[0].date()) else None

    def time(self, name: str) -> time | None:
        column, value = self.header(name), self.raw(name)
        if not value:
            return None
        found = parse_time(value)
        if found is None:
            self.add(column, value, f"{column} must be a time such as 14:30", ErrorCode.INVALID)
        return found

    def choice(self, name: str, words: dict[str, P], expected: str) -> P | None:
        """One of `words` (keys compared as headers are: case, spaces and punctuation
        aside); `expected` says what is accepted. None when blank (REQUIRED is the
        caller's)."""
        column, value = self.header(name), self.raw(name)
        if not value:
            return None
        found = words.get(value.strip().casefold())
        if found is None:
            found = words.get(header_key(value))
        if found is None:
            self.add(column, value, f"{column} must be {expected}", ErrorCode.INVALID)
        return found

    def problem(self) -> list[RowError] | None:
        """The row the csv module could not read, as its one error."""
        if self.row.problem is None:
            return None
        self.add(None, None, self.row.problem, ErrorCode.INVALID)
        return self.errors


def name_from_parts(cells: Cells, first: str, last: str) -> str | None:
    """'First Last' from two columns, each checked; None when both are blank."""
    parts = [cells.text(name, contracts.Name) for name in (first, last) if cells.given(name)]
    joined = " ".join(p for p in parts if p)
    if len(joined) > contracts.Name.length:
        column = f"{cells.header(first)} + {cells.header(last)}"
        cells.add(
            column,
            joined,
            f"{column} together must be at most {contracts.Name.length} characters",
            ErrorCode.TOO_LONG,
        )
        return None
    return joined or None
