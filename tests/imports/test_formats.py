"""The types and row-local rules of each import format, on realistic, messy files."""

from __future__ import annotations

import codecs
import csv
import io
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.assessments import service as assessments
from app.core.errors import ErrorCode
from app.imports.apply.diagnostics import assessment_data
from app.imports.formats import (
    AttendanceRecord,
    FileProblem,
    Format,
    IncidentRecord,
    IreadyRecord,
    RosterRecord,
    RowError,
    Table,
    open_format,
)
from app.imports.kinds import ImportKind
from app.incidents.models import IncidentKind
from app.students.service import UNSET

NAMES = ["Zoë Adams", "José Ñúñez", "Siobhán O'Brien", "François Dupré", "Ana-María Peña"]


def make_csv(rows: Sequence[Sequence[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def load(kind: ImportKind, data: bytes, size: int = 1 << 20) -> tuple[Format, Table, list[Any]]:
    """(format, table, what each row parsed to)."""
    fmt, table = open_format(kind, "upload.csv", chunked(data, size))
    return fmt, table, [fmt.parse(row, table) for row in table.rows()]


def records(parsed: list[Any]) -> list[Any]:
    return [p for p in parsed if p is not None and not isinstance(p, list)]


def errors(parsed: list[Any]) -> list[RowError]:
    return [e for p in parsed if isinstance(p, list) for e in p]


def codes(parsed: list[Any]) -> list[tuple[int, str | None, ErrorCode]]:
    return [(e.row, e.column, e.code) for e in errors(parsed)]


def file_problem(kind: ImportKind, data: bytes) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        load(kind, data)
    return caught.value


# -- roster: the sheet ---------------------------------------------------------------------


def sheet(n: int) -> list[list[object]]:
    rows: list[list[object]] = [
        ["  STUDENT_ID ", "Full Name", "Form", "Grade Level", "School", "Support Level", "Notes"]
    ]
    for i in range(n):
        note = "Anxiety support; sits near door,\nsee plan" if i % 5 == 0 else ""
        year = ["K", "Year 3", "07", "12", "PK", ""][i % 6]
        rows.append([f"P{i:04d}", NAMES[i % 5], f"{i % 9}A", year, "Campus A", i % 4, note])
    return rows


@pytest.mark.parametrize(
    ("encoding", "delimiter", "size"),
    [("utf-8-sig", ",", 7), ("cp1252", ";", 1 << 20), ("utf-8", "\t", 1)],
)
def test_roster_sheet(encoding: str, delimiter: str, size: int) -> None:
    data = make_csv(sheet(400), delimiter).encode(encoding)
    fmt, table, parsed = load(ImportKind.ROSTER, data, size)
    assert (fmt.layout, table.encoding, table.delimiter) == ("sheet", encoding, delimiter)
    assert fmt.unknown_columns(table) == []
    got = records(parsed)
    assert len(got) == 400 and not errors(parsed)
    first = got[0]
    assert first == RosterRecord(
        row=2,
        file="upload.csv",
        external_id="P0000",
        name="Zoë Adams",
        class_code="0A",
        year_group=0,
        campus="Campus A",
        support_level=0,
        support_notes="Anxiety support; sits near door,\nsee plan",
    )
    assert [r.year_group for r in got[:6]] == [0, 3, 7, 12, -1, None]
    assert got[1].support_notes is None  # a blank cell clears
    assert got[1].name == "José Ñúñez"
    assert got[-1].row == 401  # quoted notes spanning lines are still one row each


def test_roster_sheet_without_optional_columns_leaves_them_unset() -> None:
    data = b"id,name,Hobby\n1,Zoe,chess\n"
    fmt, table, parsed = load(ImportKind.ROSTER, data)
    (record,) = parsed
    assert record.class_code is UNSET and record.support_level is UNSET
    assert record.year_group is UNSET and record.campus is UNSET and record.support_notes is UNSET
    assert fmt.unknown_columns(table) == ["Hobby"]


def test_roster_sheet_first_and_last_name_columns() -> None:
    data = make_csv(
        [["Student Number", "First Name", "Surname", "Class"], ["7", "Zoë", "Ñúñez", "3A"],
         ["8", "", "Solo", "3A"], ["9", "", "", "3A"]]
    ).encode("cp1252")  # fmt: skip
    _fmt, _table, parsed = load(ImportKind.ROSTER, data)
    assert [r.name for r in records(parsed)] == ["Zoë Ñúñez", "Solo"]
    assert codes(parsed) == [(4, "First Name", ErrorCode.REQUIRED)]


def test_roster_sheet_name_column_blank_falls_back_to_parts() -> None:
    data = b"id,Name,First Name,Last Name\n1,,Zoe,Adams\n2,Bo Li,,\n"
    _fmt, _table, parsed = load(ImportKind.ROSTER, data)
    assert [r.name for r in parsed] == ["Zoe Adams", "Bo Li"]


def test_roster_sheet_bad_cells() -> None:
    rows: list[list[object]] = [["Student ID", "Name", "Class", "Year Group", "Support Level"]]
    rows += [
        ["ok", "Fine Name", "3A", "3", "1"],
        ["x" * 65, "Secret Person", "3A", "3", "1"],  # 3: external id too long
        ["a", "N" * 201, "3A", "3", "1"],  # 4: name too long
        ["b", "Bell\x07Name", "C" * 33, "14", "4"],  # 5: control char, class long, ranges
        ["c", "Secret Person", "3A", "third", "high"],  # 6: not numbers
        ["", "", "", "", ""],  # 7: blank, skipped
        ["", "Secret Person", "3A", "", ""],  # 8: id required
    ]
    _fmt, _table, parsed = load(ImportKind.ROSTER, make_csv(rows).encode())
    assert codes(parsed) == [
        (3, "Student ID", ErrorCode.TOO_LONG),
        (4, "Name", ErrorCode.TOO_LONG),
        (5, "Name", ErrorCode.INVALID_CHARACTERS),
        (5, "Class", ErrorCode.TOO_LONG),
        (5, "Year Group", ErrorCode.OUT_OF_RANGE),
        (5, "Support Level", ErrorCode.OUT_OF_RANGE),
        (6, "Year Group", ErrorCode.INVALID),
        (6, "Support Level", ErrorCode.INVALID),
        (8, "Student ID", ErrorCode.REQUIRED),
    ]
    assert len(records(parsed)) == 1
    for error in errors(parsed):  # a message names its column, never another cell
        assert error.column is not None and error.column in error.message
        assert "Secret" not in error.message and error.file == "upload.csv"
    assert errors(parsed)[0].value == "x" * 65
    assert errors(parsed)[1].value == "N" * 200 + "…"  # long values are cut
    assert "U+0007" in errors(parsed)[2].message


def test_roster_sheet_missing_columns_are_named() -> None:
    found = file_problem(ImportKind.ROSTER, b"Class,Year\n3A,3\n")
    assert found.code is ErrorCode.MISSING_COLUMNS
    assert found.message == "missing columns: Student ID, Name (or First Name and Last Name)"
    found = file_problem(ImportKind.ROSTER, b"Student ID,First Name\n1,Zoe\n")
    assert found.message == "missing columns: Name (or First Name and Last Name)"


# -- roster: OneRoster users.csv ----------------------------------------------------------

ONEROSTER_HEADER = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password", "metadata.house",
]  # fmt: skip


def user(sid: str, role: str, given: str, family: str, grades: str, status: str = "") -> list[str]:
    return [sid, status, "2025-08-01T00:00:00Z", "true", "org1", role, sid.lower(), "", given,
            family, "Q", sid, "", "", "", "", grades, "", "Red"]  # fmt: skip


def test_oneroster_users() -> None:
    rows = [[*ONEROSTER_HEADER, "Favourite Colour"]]
    grades = ["KG", "PK", "01", "09,10", "13", "TK", "UG"]
    for i in range(350):
        rows.append([*user(f"STU{i}", "student", "Zoë", "Ñúñez", grades[i % 7]), "blue"])
    rows.append([*user("T1", "teacher", "Ann", "Teach", ""), ""])
    rows.append([*user("STU-X", "student", "Gone", "Away", "05", "tobedeleted"), ""])
    rows.append([*user("STU-Y", "Student", "Bad", "Grade", "14"), ""])
    rows.append([*user("STU-Z", "student", "Bad", "Grade", "XY"), ""])
    rows.append([*user("STU-W", "", "No", "Role", "01"), ""])
    data = codecs.BOM_UTF8 + make_csv(rows).encode()
    fmt, table, parsed = load(ImportKind.ROSTER, data, 7)
    assert fmt.layout == "oneroster"
    assert fmt.unknown_columns(table) == ["Favourite Colour"]
    got = records(parsed)
    assert len(got) == 350
    assert got[0] == RosterRecord(row=2, file="upload.csv", external_id="STU0", name="Zoë Ñúñez",
                                  year_group=0)  # fmt: skip
    assert [r.year_group for r in got[:7]] == [0, -1, 1, 9, 13, 0, None]
    assert parsed[350:352] == [None, None]  # a teacher, a student to be deleted: skipped
    assert codes(parsed) == [
        (354, "grades", ErrorCode.OUT_OF_RANGE),
        (355, "grades", ErrorCode.INVALID),
        (356, "role", ErrorCode.REQUIRED),
    ]


def test_oneroster_missing_columns() -> None:
    found = file_problem(ImportKind.ROSTER, b"sourcedId,givenName\n1,Zoe\n")
    assert found.message == "missing columns: role, familyName"


# -- attendance -----------------------------------------------------------------------------


def aeries(n: int, periods: list[str], delimiter: str = "\t") -> bytes:
    rows: list[list[object]] = [["Perm ID", "Att Date", "Student Name", "All Day", *periods, "SC"]]
    days = ["2025-09-10", "9/11/2025", "09/12/2025", "9/15/25"]
    for i in range(n):
        codes_ = ["" for _ in periods]
        if i % 3 == 0:
            codes_[1] = "t"
        if i % 4 == 0:
            codes_[-1] = "U"
        rows.append(
            [f"{1000 + i}", days[i % 4], NAMES[i % 5], "X" if i % 10 == 0 else "", *codes_, "994"]
        )
    return make_csv(rows, delimiter).encode("cp1252")


def test_attendance_aeries_periods() -> None:
    periods = [f"A{n}" for n in range(10)]
    fmt, table, parsed = load(ImportKind.ATTENDANCE, aeries(600, periods), 7)
    assert (fmt.layout, table.delimiter, table.encoding) == ("aeries", "\t", "cp1252")
    assert fmt.unknown_columns(table) == ["SC"]
    got = records(parsed)
    assert len(got) == 600 and not errors(parsed)
    assert got[0] == AttendanceRecord(
        row=2,
        file="upload.csv",
        external_id="1000",
        name="Zoë Adams",
        day=date(2025, 9, 10),
        all_day_code="X",
        period_codes={"2": "T", "10": "U"},  # A0..A9 are periods 1..10
        scheduled_periods=10,
        period_headers={"2": "A1", "10": "A9"},
    )
    assert [r.day for r in got[:4]] == [date(2025, 9, d) for d in (10, 11, 12, 15)]
    assert got[1].all_day_code is None and got[1].period_codes == {}  # blank is present
    assert got[2].period_codes == {}
    assert got[3].period_codes == {"2": "T"}


@pytest.mark.parametrize(
    ("periods", "keys"),
    [
        (["Period 1", "Period 2", "Period 3"], ["1", "2", "3"]),
        (["P1", "P2"], ["1", "2"]),
        (["Per 1", "Per. 2", "PERIOD_03"], ["1", "2", "3"]),
    ],
)
def test_attendance_period_headers(periods: list[str], keys: list[str]) -> None:
    header = ["Student ID", "Date", *periods]
    data = make_csv([header, ["1", "2025-09-10", *(["A"] * len(periods))]]).encode()
    fmt, table, parsed = load(ImportKind.ATTENDANCE, data)
    (record,) = parsed
    assert list(record.period_codes) == keys
    assert record.scheduled_periods == len(periods)
    assert fmt.unknown_columns(table) == []


def test_attendance_scheduled_periods_and_default() -> None:
    data = b"Student ID,Date,Periods,P1,P2,P1\n1,2025-09-10,7,A,,B\n2,2025-09-10,,,,\n"
    fmt, table, parsed = load(ImportKind.ATTENDANCE, data)
    assert [r.scheduled_periods for r in parsed] == [7, 2]
    assert parsed[0].period_codes == {"1": "A"}  # the first column for a period
    assert fmt.unknown_columns(table) == ["P1"]
    _fmt, _table, parsed = load(ImportKind.ATTENDANCE, b"Student ID,Date,All Day\n1,2025-09-10,\n")
    assert parsed[0].scheduled_periods == 6 and parsed[0].name is None


def test_attendance_names_from_parts() -> None:
    data = "Student ID,Date,Last Name,First Name\n1,2025-09-10,Ñúñez,Zoë\n".encode("cp1252")
    _fmt, _table, parsed = load(ImportKind.ATTENDANCE, data)
    assert parsed[0].name == "Zoë Ñúñez"


def test_attendance_bad_cells() -> None:
    rows = [
        ["Student ID", "Date", "All Day", "Period 1", "Scheduled Periods"],
        ["1", "2025-02-30", "", "", ""],  # 2: no such day
        ["2", "13/09/2025", "", "", ""],  # 3: D/M/Y is not read
        ["3", "1999-12-31", "", "", ""],  # 4: before 2000
        ["4", "2025-09-10", "TOOLONGCODE12345X", "A\x01", "21"],  # 5
        ["", "", "", "", ""],  # 6: blank
        ["", "", "A", "", ""],  # 7: both required
    ]
    _fmt, _table, parsed = load(ImportKind.ATTENDANCE, make_csv(rows).encode())
    assert codes(parsed) == [
        (2, "Date", ErrorCode.INVALID),
        (3, "Date", ErrorCode.INVALID),
        (4, "Date", ErrorCode.OUT_OF_RANGE),
        (5, "All Day", ErrorCode.TOO_LONG),
        (5, "Period 1", ErrorCode.INVALID_CHARACTERS),
        (5, "Scheduled Periods", ErrorCode.OUT_OF_RANGE),
        (7, "Student ID", ErrorCode.REQUIRED),
        (7, "Date", ErrorCode.REQUIRED),
    ]
    assert errors(parsed)[0].value == "2025-02-30"
    assert "2025-09-10 or 9/10/2025" in errors(parsed)[0].message


def test_attendance_missing_columns() -> None:
    found = file_problem(ImportKind.ATTENDANCE, b"Name,A1\nZoe,A\n")
    assert found.message == "missing columns: Student ID, Date"


def test_attendance_memory_stays_flat() -> None:
    """200,000 rows (7.9 MiB) from a generator of 1 MiB chunks: the peak stays a few chunks
    (about 5 MiB, the generator's own included), where the file read whole would need its
    bytes and its text, twice as much, before its first row."""
    header = b"Student ID,Date,Student Name,All Day," + b",".join(b"A%d" % n for n in range(10))

    def chunks() -> Iterator[bytes]:
        pending = bytearray(header + b"\r\n")
        for i in range(200_000):
            pending += b"%d,9/%d/2025,Zo\xc3\xab %d,,,T,,,,,,,U,\r\n" % (i, i % 28 + 1, i)
            if len(pending) >= 1 << 20:  # a multi-byte character split across chunks
                yield bytes(pending[: 1 << 20])
                del pending[: 1 << 20]
        yield bytes(pending)

    tracemalloc.start()
    try:
        fmt, table = open_format(ImportKind.ATTENDANCE, "big.csv", chunks())
        count = 0
        for row in table.rows():
            record = fmt.parse(row, table)
            assert isinstance(record, AttendanceRecord)
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000 and record.row == 200_001
    assert record.name == "Zoë 199999" and record.period_codes == {"2": "T", "9": "U"}
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"


# -- i-Ready --------------------------------------------------------------------------------

ELA_DOMAINS = ["Phonological Awareness", "Phonics", "High-Frequency Words", "Vocabulary"]
MATH_DOMAINS = ["Number and Operations", "Algebra and Algebraic Thinking", "Geometry"]
MEASURES = ["Scale Score", "Placement", "Relative Placement"]


def iready(subject: str, domains: list[str], n: int, comprehension: str = "") -> bytes:
    if comprehension:
        domains = [*domains, f"{comprehension}Literature", f"{comprehension}Informational Text"]
    measure = "Lexile Measure" if subject == "Reading" else "Quantile Measure"
    header = ["Student ID", "Student Last Name", "Student First Name", "Academic Year", "Subject",
              "Start Date", "Completion Date", "Baseline Diagnostic (Y/N)", "Overall Scale Score",
              "Overall Placement", "Overall Relative Placement", "Percentile", measure,
              *(f"{d} {m}" for d in domains for m in MEASURES),
              "Annual Typical Growth Measure", "Annual Stretch Growth Measure",
              "Mid On Grade Level Scale Score", "Teacher Shoe Size"]  # fmt: skip
    rows: list[list[object]] = [header]
    for i in range(n):
        cells: list[object] = []
        for j, _ in enumerate(domains):
            cells += ["" if (i + j) % 9 == 0 else 400 + j, "Early 3", "1 Grade Level Below"]
        rows.append([f"S{i}", "Ñúñez", "Zoë", "2025-2026", subject, "9/1/2025", f"9/{i % 28 + 1}/2025",
                     "Y", 480 + i % 50, "Early 4", "2 Grade Levels Below", i % 99 + 1,
                     "850L" if subject == "Reading" else "650Q", *cells, 21, 36, 520, "9"])  # fmt: skip
    return codecs.BOM_UTF8 + make_csv(rows).encode()


def test_iready_ela_and_math_files() -> None:
    fmt, table, parsed = load(
        ImportKind.IREADY, iready("Reading", ELA_DOMAINS, 300, "Reading Comprehension: "), 7
    )
    assert fmt.layout == "iready" and fmt.unknown_columns(table) == ["Teacher Shoe Size"]
    ela = records(parsed)
    assert len(ela) == 300 and not errors(parsed)
    assert all(isinstance(r, IreadyRecord) for r in ela)
    first = ela[1]
    assert first.subject == "ELA" and first.academic_year == "2025-2026"
    assert (first.taken_on, first.scale_score, first.percentile) == (date(2025, 9, 2), 481, 2)
    assert (first.placement, first.relative_placement) == ("Early 4", "2 Grade Levels Below")
    assert (first.lexile, first.quantile, first.typical_growth) == ("850L", None, 21)
    assert first.domain_scores["Phonics"] == 401
    assert first.domain_scores["Phonics Placement"] == "Early 3"
    assert (
        first.domain_scores["Comprehension: Literature Relative Placement"] == "1 Grade Level Below"
    )
    assert "Phonological Awareness" in first.domain_scores
    assert "Phonics" not in ela[8].domain_scores  # a blank domain score is left out

    _fmt, _table, newer = load(
        ImportKind.IREADY, iready("Reading", ELA_DOMAINS, 3, "Comprehension: ")
    )
    assert records(newer)[1].domain_scores == first.domain_scores  # both spellings, one key

    _fmt, _table, parsed = load(ImportKind.IREADY, iready("Math", MATH_DOMAINS, 300))
    math = records(parsed)
    assert len(math) == 300 and {r.subject for r in math} == {"MATH"}
    assert math[0].quantile == "650Q" and set(math[1].domain_scores) == {
        f"{d}{s}" for d in MATH_DOMAINS for s in ("", " Placement", " Relative Placement")
    }


def test_iready_records_are_what_the_assessments_service_takes() -> None:
    data = iready("Reading", ELA_DOMAINS, 20, "Reading Comprehension: ")
    data_math = iready("Math", MATH_DOMAINS, 20)
    for file in (data, data_math):
        _fmt, _table, parsed = load(ImportKind.IREADY, file)
        for record in records(parsed):
            item = assessment_data(record, uuid.uuid4())
            values, problems = assessments.clean(item)
            assert problems == [] and values["domain_scores"] == record.domain_scores
            assert values["grade_levels_relative"] == -2


def test_iready_bad_cells() -> None:
    header = ["Student ID", "Subject", "Academic Year", "Completion Date", "Overall Scale Score",
              "Percentile", "Annual Typical Growth Measure", "Phonics Scale Score"]  # fmt: skip
    rows: list[list[object]] = [
        header,
        ["1", "Math", "2025-26", "9/10/2025", "480", "50", "20", "400"],  # ok
        ["2", "Science", "2025-2027", "2025-09-10", "99", "0", "x", "900"],  # 3
        ["3", "ELA", "", "10 Sept", "801", "100", "", ""],  # 4
        ["4", "", "", "", "", "", "", ""],  # 5
        ["5", "mathematics", "2025/2026", "9/10/2025", "512.0", "", "", "abc"],  # 6
    ]
    _fmt, _table, parsed = load(ImportKind.IREADY, make_csv(rows).encode())
    assert records(parsed)[0].academic_year == "2025-2026"
    assert codes(parsed) == [
        (3, "Subject", ErrorCode.INVALID),
        (3, "Overall Scale Score", ErrorCode.OUT_OF_RANGE),
        (3, "Academic Year", ErrorCode.INVALID),
        (3, "Percentile", ErrorCode.OUT_OF_RANGE),
        (3, "Annual Typical Growth Measure", ErrorCode.INVALID),
        (3, "Phonics Scale Score", ErrorCode.OUT_OF_RANGE),
        (4, "Completion Date", ErrorCode.INVALID),
        (4, "Overall Scale Score", ErrorCode.OUT_OF_RANGE),
        (4, "Percentile", ErrorCode.OUT_OF_RANGE),
        (5, "Subject", ErrorCode.REQUIRED),
        (5, "Completion Date", ErrorCode.REQUIRED),
        (5, "Overall Scale Score", ErrorCode.REQUIRED),
        (6, "Phonics Scale Score", ErrorCode.INVALID),
    ]


def test_iready_missing_columns() -> None:
    found = file_problem(ImportKind.IREADY, b"Student ID,Subject,Phonics Scale Score\n1,Math,400\n")
    assert found.message == "missing columns: Completion Date, Overall Scale Score"


# -- incidents ------------------------------------------------------------------------------


def test_incidents() -> None:
    kinds = ["Positive", "NEGATIVE", "neutral", "+", "-", "Merit", "demerit"]
    stamps = ["2025-09-10", "2025-09-10 14:30", "2025-09-10T14:30:00Z", "2025-09-10T16:30:00+02:00",
              "9/10/2025 2:30 PM", "9/10/2025 14:30:15", "09/10/25"]  # fmt: skip
    rows: list[list[object]] = [["\ufeffStudent ID", "Date", "Polarity", "Reason", "Points",
                                 "Comments", "Teacher", "Class", "Student Name"]]  # fmt: skip
    for i in range(350):
        note = 'Shouted "no", threw pen;\nthen apologised' if i % 3 == 0 else ""
        rows.append([f"S{i}", stamps[i % 7], kinds[i % 7], "Disruption", [-2, 3, ""][i % 3], note,
                     "Mr Ñúñez", "3A", NAMES[i % 5]])  # fmt: skip
    fmt, table, parsed = load(ImportKind.INCIDENTS, make_csv(rows, ";").encode("utf-8"), 7)
    assert fmt.unknown_columns(table) == []
    got = records(parsed)
    assert len(got) == 350 and not errors(parsed)
    assert got[0] == IncidentRecord(
        row=2,
        file="upload.csv",
        external_id="S0",
        occurred_at=datetime(2025, 9, 10, tzinfo=UTC),
        kind=IncidentKind.POSITIVE,
        category="Disruption",
        points=-2,
        note='Shouted "no", threw pen;\nthen apologised',
        staff="Mr Ñúñez",
        class_code="3A",
    )
    at = datetime(2025, 9, 10, 14, 30, tzinfo=UTC)
    assert [r.occurred_at for r in got[1:7]] == [
        at,
        at,
        at,
        at,
        at.replace(second=15),
        datetime(2025, 9, 10, tzinfo=UTC),
    ]
    assert [r.kind.value for r in got[:7]] == [
        "POSITIVE",
        "NEGATIVE",
        "NEUTRAL",
        "POSITIVE",
        "NEGATIVE",
        "POSITIVE",
        "NEGATIVE",
    ]
    assert got[2].points is None and got[1].note is None


def test_incidents_separate_time_column() -> None:
    data = b"Student ID,Date,Time,Kind,Category\n1,2025-09-10,08:05,negative,Late\n2,2025-09-10,,+,Help\n"
    _fmt, _table, parsed = load(ImportKind.INCIDENTS, data)
    assert [r.occurred_at for r in parsed] == [
        datetime(2025, 9, 10, 8, 5, tzinfo=UTC),
        datetime(2025, 9, 10, tzinfo=UTC),
    ]


def test_incidents_bad_cells() -> None:
    rows = [
        ["Student ID", "Date", "Time", "Kind", "Category", "Points", "Note", "Staff"],
        ["1", "2025-09-10", "", "bad", "Late", "101", "", ""],  # 2
        ["2", "tomorrow", "25:00", "negative", "C" * 101, "1.5", "tab\tok\x1b[31m", ""],  # 3
        ["3", "2025-09-10 14:30", "", "", "", "", "", "S" * 201],  # 4
        ["4", "2025-09-10T25:00", "", "+", "Help", "", "", ""],  # 5
    ]
    _fmt, _table, parsed = load(ImportKind.INCIDENTS, make_csv(rows).encode())
    assert codes(parsed) == [
        (2, "Kind", ErrorCode.INVALID),
        (2, "Points", ErrorCode.OUT_OF_RANGE),
        (3, "Date", ErrorCode.INVALID),
        (3, "Time", ErrorCode.INVALID),
        (3, "Category", ErrorCode.TOO_LONG),
        (3, "Points", ErrorCode.INVALID),
        (3, "Note", ErrorCode.INVALID_CHARACTERS),
        (4, "Kind", ErrorCode.REQUIRED),
        (4, "Category", ErrorCode.REQUIRED),
        (4, "Staff", ErrorCode.TOO_LONG),
        (5, "Date", ErrorCode.INVALID),
    ]
    assert "positive, negative or neutral" in errors(parsed)[0].message
    assert "tab" not in errors(parsed)[6].message


def test_incidents_missing_columns() -> None:
    found = file_problem(ImportKind.INCIDENTS, b"Student ID,Note\n1,x\n")
    assert found.message == "missing columns: Date, Kind, Category"


# -- every kind -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ImportKind))
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.EMPTY_FILE),
        (codecs.BOM_UTF8 + b"\r\n", ErrorCode.EMPTY_FILE),
        (b"\x00\x01\x02\x03binary", ErrorCode.BINARY_FILE),
        (b"Colour\nred\n", ErrorCode.MISSING_COLUMNS),
    ],
)
def test_file_problems_for_every_kind(kind: ImportKind, data: bytes, code: ErrorCode) -> None:
    assert file_problem(kind, data).code is code


def test_header_only_has_no_data_rows() -> None:
    _fmt, table = open_format(ImportKind.INCIDENTS, "f.csv", [b"Student ID,Date,Kind,Category\r\n"])
    with pytest.raises(FileProblem) as caught:
        list(table.rows())
    assert caught.value.code is ErrorCode.NO_DATA_ROWS


def test_a_cell_the_encoding_could_not_read_is_reported() -> None:
    data = make_csv(
        [["Student ID", "Date", "Kind", "Category"]] + [["1", "2025-09-10", "+", "Help"]] * 4000
    ).encode()
    data += b"2,2025-09-10,+,Caf\xe9\r\n"  # cp1252 after a UTF-8 sample
    _fmt, _table, parsed = load(ImportKind.INCIDENTS, data)
    assert codes(parsed) == [(4002, "Category", ErrorCode.INVALID_CHARACTERS)]
    assert "utf-8" in errors(parsed)[0].message


def test_an_unreadable_record_is_one_row_error() -> None:
    data = (
        b'Student ID,Date,Kind,Category\n1,2025-09-10,+,"'
        + b"x" * 200_000
        + b'"\n2,2025-09-10,+,Help\n'
    )
    _fmt, _table, parsed = load(ImportKind.INCIDENTS, data)
    assert codes(parsed)[0] == (2, None, ErrorCode.INVALID)
    assert records(parsed)[-1].external_id == "2"
