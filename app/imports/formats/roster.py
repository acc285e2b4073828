"""Roster files: the seeds' student sheet, and OneRoster 1.1 users.csv (students only)."""

from __future__ import annotations

import re

from app.core import contracts
from app.core.errors import ErrorCode
from app.imports.formats.base import Cells, Format, RowError, known, name_from_parts
from app.imports.formats.records import RosterRecord
from app.imports.kinds import ImportKind
from app.imports.reading import Column, Row, Table, header_key
from app.students.service import UNSET, Maybe

EXTERNAL_ID = Column(
    "external_id",
    "Student ID",
    (
        "student id", "external id", "sis id", "student number", "student no", "pupil id",
        "pupil number", "upn", "local id", "perm id", "id",
    ),
    required=True,
)  # fmt: skip
FIRST_NAME = Column("first_name", "First Name", ("first name", "given name", "forename", "first"))
LAST_NAME = Column("last_name", "Last Name", ("last name", "surname", "family name", "last"))
_NAME_ALIASES = ("name", "student name", "full name", "pupil name", "student")
_SHEET_OPTIONAL = (
    Column(
        "class_code",
        "Class",
        (
            "class", "class code", "homeroom", "form", "form group", "tutor group",
            "registration group", "reg group",
        ),
    ),
    Column("year_group", "Year Group", ("year", "year group", "grade", "grade level", "yr")),
    Column("campus", "Campus", ("campus", "school", "site", "school name")),
    Column("support_level", "Support Level", ("support level", "support tier", "support")),
    Column("support_notes", "Support Notes", ("support notes", "support note", "notes", "note")),
)  # fmt: skip

# Grades as words: US (K, Pre-K, OneRoster's codes) and UK (Reception, Nursery).
_GRADE_WORDS: dict[str, int | None] = {
    "k": 0, "kg": 0, "kindergarten": 0, "tk": 0, "r": 0, "reception": 0,
    "pk": -1, "prek": -1, "prekindergarten": -1, "n": -1, "nursery": -1,
    "ps": -1, "pr": -1, "it": -1,
    "ug": None, "ungraded": None, "other": None,
}  # fmt: skip
_GRADE_NUMBER = re.compile(r"(?:year|yr|y|grade|gr|g)?\s*([+-]?\d{1,2})", re.IGNORECASE)
_GRADE_HINT = "a grade from -1 (pre-kindergarten) to 13, K, PK or a year such as Year 7"

# OneRoster 1.1 users.csv (and 1.2's additions): read, or knowingly ignored.
_ONEROSTER = (
    Column("external_id", "sourcedId", ("sourced id",), required=True),
    Column("role", "role", (), required=True),
    Column("status", "status", ()),
    Column("given_name", "givenName", ("given name",), required=True),
    Column("family_name", "familyName", ("family name",), required=True),
    Column("middle_name", "middleName", ("middle name",)),
    Column("grades", "grades", ("grade",)),
)
_ONEROSTER_IGNORED = known(
    "dateLastModified", "enabledUser", "orgSourcedIds", "username", "userIds", "identifier",
    "email", "sms", "phone", "agentSourcedIds", "password", "userMasterIdentifier",
    "preferredGivenName", "preferredMiddleName", "preferredFamilyName", "pronouns",
    "primaryOrgSourcedId",
)  # fmt: skip


def _oneroster_uses(table: Table) -> set[str]:
    metadata = {h for h in table.unknown if header_key(h).startswith("metadata")}
    return metadata | set(_ONEROSTER_IGNORED(table))


def year_group(cells: Cells, column: str, value: str) -> int | None:
    """A grade or year as a number: 7, '07', 'Year 7', 'Grade 7', 'K' (0), 'PK' (-1)."""
    if not value:
        return None
    key = header_key(value)
    if key in _GRADE_WORDS:
        return _GRADE_WORDS[key]
    match = _GRADE_NUMBER.fullmatch(value.strip())
    if match is None:
        cells.add(column, value, f"{column} must be {_GRADE_HINT}", ErrorCode.INVALID)
        return None
    number = cells.number_of(column, match[1], contracts.YearGroup.bounds)
    return None if number is None else int(number)


def _maybe_text(cells: Cells, name: str, contract: contracts.Contract) -> Maybe[str | None]:
    return cells.text(name, contract) if cells.given(name) else UNSET


def _name(cells: Cells, whole: str | None, first: str, last: str) -> str | None:
    """The name column, or else 'First Last' from the two name columns; REQUIRED when the
    row has neither."""
    before = len(cells.errors)
    given = whole is not None and cells.given(whole)
    name = cells.text(whole, contracts.Name) if whole is not None and given else None
    if name is None and len(cells.errors) == before:
        name = name_from_parts(cells, first, last)
        if name is None and len(cells.errors) == before:
            cells.required(cells.header(whole if whole is not None and given else first))
    return name


def _parse_sheet(row: Row, table: Table) -> RosterRecord | list[RowError] | None:
    cells = Cells(row, table, _SHEET_LABELS)
    if (problem := cells.problem()) is not None:
        return problem
    external_id = cells.text("external_id", contracts.ExternalId, required=True)
    name = _name(cells, "name", "first_name", "last_name")
    class_code = _maybe_text(cells, "class_code", contracts.ClassCode)
    year: Maybe[int | None] = UNSET
    if cells.given("year_group"):
        year = year_group(cells, cells.header("year_group"), cells.raw("year_group"))
    campus = _maybe_text(cells, "campus", contracts.Campus)
    level: Maybe[int | None] = UNSET
    if cells.given("support_level"):
        level = cells.integer("support_level", contracts.SupportLevel)
    record = RosterRecord(
        row=row.number,
        file=table.file,
        external_id=external_id or "",
        name=name or "",
        class_code=class_code,
        year_group=year,
        campus=campus,
        support_level=level,
        support_notes=_maybe_text(cells, "support_notes", contracts.Note),
    )
    return cells.errors or record


def _parse_oneroster(row: Row, table: Table) -> RosterRecord | list[RowError] | None:
    """A student's row; None for another role's, or one marked tobedeleted."""
    cells = Cells(row, table, _ONEROSTER)
    if (problem := cells.problem()) is not None:
        return problem
    role = cells.raw("role").casefold()
    if not role:
        cells.required(cells.header("role"))
        return cells.errors
    if role != "student" or cells.raw("status").casefold() == "tobedeleted":
        return None
    external_id = cells.text("external_id", contracts.ExternalId, required=True)
    name = _name(cells, None, "given_name", "family_name")
    grades: Maybe[int | None] = UNSET
    if cells.given("grades"):  # a list: the first is the student's
        first = cells.raw("grades").split(",")[0].strip()
        grades = year_group(cells, cells.header("grades"), first)
    record = RosterRecord(
        row=row.number,
        file=table.file,
        external_id=external_id or "",
        name=name or "",
        year_group=grades,
    )
    return cells.errors or record


def _sheet_columns(name_required: bool) -> tuple[Column, ...]:
    name = Column(
        "name",
        "Name" if not name_required else "Name (or First Name and Last Name)",
        _NAME_ALIASES,
        required=name_required,
    )
    first = Column(FIRST_NAME.name, FIRST_NAME.label, FIRST_NAME.aliases, not name_required)
    last = Column(LAST_NAME.name, LAST_NAME.label, LAST_NAME.aliases, not name_required)
    return (EXTERNAL_ID, name, first, last, *_SHEET_OPTIONAL)


def _format(columns: tuple[Column, ...]) -> Format:
    return Format(ImportKind.ROSTER, "sheet", columns, _parse_sheet)


_SHEET_LABELS = _sheet_columns(name_required=True)
SHEET = _format(_sheet_columns(name_required=True))
# A sheet without a name column: its first and last name columns are the name.
SHEET_NAME_PARTS = _format(_sheet_columns(name_required=False))
ONEROSTER = Format(
    ImportKind.ROSTER, "oneroster", _ONEROSTER, _parse_oneroster, uses=_oneroster_uses
)


def choose(headers: list[str]) -> Format:
    """OneRoster when a sourcedId column is there; else the sheet, its name whole or in
    first and last name columns."""
    keys = {header_key(h) for h in headers}
    if "sourcedid" in keys:
        return ONEROSTER
    has = {c.name: bool(keys & {header_key(a) for a in (c.name, c.label, *c.aliases)})
           for c in _sheet_columns(True)}  # fmt: skip
    if not has["name"] and has["first_name"] and has["last_name"]:
        return SHEET_NAME_PARTS
    return SHEET
