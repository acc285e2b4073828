"""The file and header layers: encodings, delimiters, CSV quoting, headers, row numbers,
and every file that cannot be read as a table."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import ErrorCode
from app.imports.reading import (
    SAMPLE_BYTES,
    Column,
    FileProblem,
    Row,
    Table,
    header_key,
    normalise_header,
    open_table,
)

COLUMNS = (
    Column("external_id", "Student ID", ("student id", "sis id"), required=True),
    Column("day", "Date", ("date", "attendance date"), required=True),
    Column("name", "Student Name", ("student name", "name")),
    Column("code", "All Day Code", ("all day", "all day code")),
)


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def opened(data: bytes, size: int = 1 << 20, columns: tuple[Column, ...] = COLUMNS) -> Table:
    return open_table("upload.csv", chunked(data, size), columns)


def rows(data: bytes, size: int = 1 << 20, columns: tuple[Column, ...] = COLUMNS) -> list[Row]:
    return list(opened(data, size, columns).rows())


def problem(data: bytes, columns: tuple[Column, ...] = COLUMNS) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        rows(data, columns=columns)
    return caught.value


NAMES = ["Zoë Adams", "Ñúñez, José", "Łukasz Żółć", "渡辺 さくら", "Ana-María O'Neil", "Zoë 🦊"]


def attendance_csv(n: int, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Student ID", "Date", "Student Name", "All Day"])
    for i in range(n):
        writer.writerow([f"S{i:05d}", "2025-09-10", NAMES[i % len(NAMES)], "A" if i % 7 else ""])
    return out.getvalue()


# -- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (attendance_csv(300).encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + attendance_csv(300).encode("utf-8"), "utf-8-sig"),
    ],
)
@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_utf8_survives_any_chunking(encoded: bytes, encoding: str, size: int) -> None:
    table = opened(encoded, size)
    assert table.encoding == encoding
    assert table.headers[0] == "Student ID"  # no BOM left on the first header
    got = list(table.rows())
    assert len(got) == 300
    assert [r.values["name"] for r in got[:6]] == NAMES
    assert got[1].values["name"] == "Ñúñez, José"  # a quoted delimiter stays in the cell
    assert not any("\ufffd" in r.values["name"] for r in got)


def test_cp1252_names_are_detected() -> None:
    text = "Student ID;Student Name;Date\r\n1;Zoë Ñúñez;2025-09-10\r\n2;“Smart” \u2013 dash;9/10/2025\r\n"
    table = opened(text.encode("cp1252"), size=5)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert [r.values["name"] for r in table.rows()] == ["Zoë Ñúñez", "“Smart” \u2013 dash"]


def test_bytes_cp1252_leaves_undefined_mean_latin1() -> None:
    data = b"Student ID,Student Name,Date\n1,Zo\xeb \x8d,2025-09-10\n"
    table = opened(data)
    assert table.encoding == "latin-1"
    assert [r.values["name"] for r in table.rows()] == ["Zoë \x8d"]


def test_bytes_invalid_after_the_sample_become_replacement_characters() -> None:
    head = attendance_csv(2_000).encode("utf-8")
    assert len(head) > SAMPLE_BYTES
    data = head + b"X1,2025-09-10,Zo\xeb,\r\nX2,2025-09-10,Fine,\r\n"
    got = rows(data, size=1000)
    assert got[-2].values["name"] == "Zo\ufffd"
    assert got[-1].values["name"] == "Fine"
    assert got[-1].number == 2_003


def test_nul_after_the_sample_is_a_replacement_character_not_a_crash() -> None:
    data = attendance_csv(2_000).encode() + b"X1,2025-09-10,Zo\x00e,\r\n"
    assert rows(data)[-1].values["name"] == "Zo\ufffde"


# -- delimiters, quoting and row numbers -------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    table = opened(attendance_csv(50, delimiter).encode())
    assert table.delimiter == delimiter
    assert sum(1 for _ in table.rows()) == 50


def test_a_delimiter_inside_quotes_in_the_header_is_not_counted() -> None:
    data = b'"Student ID; the SIS one",Date,"Name; full"\n1,2025-09-10,A\n'
    table = opened(data, columns=(Column("x", "X", ("student id the sis one",)),))
    assert table.delimiter == ","
    assert table.mapping == {"x": 0}


def test_excel_sep_line_sets_the_delimiter_and_is_no_row() -> None:
    data = b"sep=|\r\nStudent ID|Date\r\n1|2025-09-10\r\n"
    table = opened(data)
    assert table.delimiter == "|"
    assert [(r.number, r.values["external_id"]) for r in table.rows()] == [(2, "1")]


def test_row_numbers_are_a_spreadsheets() -> None:
    data = (
        b"Student ID,Date,Student Name,All Day\r\n"  # row 1
        b'1,2025-09-10,"Line one\r\nline two\r\nline three",A\r\n'  # row 2, three lines
        b"\r\n"  # row 3: blank, skipped
        b",,,\r\n"  # row 4: blank cells, skipped
        b'2,2025-09-10,"Said ""hi"", left",\r\n'  # row 5
        b"3,2025-09-10\r\n"  # row 6: short
        b"4,2025-09-10,Extra,T,surplus,cells\r\n"  # row 7: long
    )
    for size in (1, 7, 100):
        got = rows(data, size)
        assert [r.number for r in got] == [2, 5, 6, 7]
        assert got[0].values["name"] == "Line one\r\nline two\r\nline three"
        assert got[1].values["name"] == 'Said "hi", left'
        assert got[2].values == {"external_id": "3", "day": "2025-09-10", "name": "", "code": ""}
        assert got[3].values["code"] == "T"
        assert got[3].cells == {
            "Student ID": "4",
            "Date": "2025-09-10",
            "Student Name": "Extra",
            "All Day": "T",
        }


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("size", [1, 2, 3, 64])
def test_every_line_ending_and_a_cr_split_from_its_lf(newline: str, size: int) -> None:
    data = newline.join(["Student ID,Date", "1,2025-09-10", "", "2,2025-09-11", ""]).encode()
    assert [(r.number, r.values["external_id"]) for r in rows(data, size)] == [(2, "1"), (4, "2")]


def test_leading_blank_lines_count_as_rows() -> None:
    got = rows(b"\n\nStudent ID,Date\n1,2025-09-10\n")
    assert [r.number for r in got] == [4]


def test_cells_are_stripped() -> None:
    got = rows(b"Student ID , Date\n  1  ,\t2025-09-10 \n")
    assert got[0].values == {"external_id": "1", "day": "2025-09-10"}
    assert got[0].cells == {"Student ID": "1", "Date": "2025-09-10"}


def test_a_field_over_the_csv_limit_is_a_row_problem_and_later_rows_are_read() -> None:
    data = b'Student ID,Date\n1,"' + b"x" * 200_000 + b'"\n2,2025-09-10\n'
    got = rows(data, size=4096)
    assert got[0].problem is not None and "could not be read" in got[0].problem
    assert got[0].values == {} and got[0].number == 2
    assert got[-1].values == {"external_id": "2", "day": "2025-09-10"}


def test_rows_are_read_once() -> None:
    table = opened(b"Student ID,Date\n1,2025-09-10\n")
    list(table.rows())
    with pytest.raises(RuntimeError):
        table.rows()


# -- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Student ID", "\ufeff student id ", "STUDENT_ID", "StudentID", "student-id", "Student  ID"],
)
def test_header_spellings_match(header: str) -> None:
    table = opened(f"{header},Date\n1,2025-09-10\n".encode())
    assert table.mapping == {"external_id": 0, "day": 1}
    assert table.unknown == []


def test_header_normalisation() -> None:
    assert normalise_header("\ufeff  Reading Comprehension: Literature ") == (
        "reading comprehension literature"
    )
    assert normalise_header("Duration (min)") == "duration min"
    assert header_key("Class(es)") == "classes"


def test_unknown_duplicate_and_blank_headers() -> None:
    data = b"Student ID,Date,Favourite Colour,,Student ID,sis id\n1,2025-09-10,red,,2,3\n"
    table = opened(data)
    assert table.mapping == {"external_id": 0, "day": 1}  # the first header for a column
    assert table.unknown == ["Favourite Colour", "Student ID", "sis id"]  # blank: ignored
    (row,) = table.rows()
    assert row.values["external_id"] == "1"
    assert row.cells == {
        "Student ID": "1",
        "Date": "2025-09-10",
        "Favourite Colour": "red",
        "sis id": "3",
    }


def test_a_header_matching_two_columns_goes_to_the_first() -> None:
    columns = (Column("a", "A", ("code",)), Column("b", "B", ("code", "b code")))
    table = opened(b"Code,B Code\nx,y\n", columns=columns)
    assert table.mapping == {"a": 0, "b": 1}


def test_columns_may_be_chosen_from_the_headers() -> None:
    seen: list[list[str]] = []

    def choose(headers: list[str]) -> tuple[Column, ...]:
        seen.append(headers)
        return COLUMNS

    table = open_table("f.csv", [b"\xef\xbb\xbfStudent ID,Date\n1,2025-09-10\n"], choose)
    assert seen == [["Student ID", "Date"]] and table.mapping == {"external_id": 0, "day": 1}


# -- files that are no table --------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", codecs.BOM_UTF8, b"   \r\n\t\n", codecs.BOM_UTF8 + b"\n\n", b",,,\n , \n"]
)
def test_empty_files(data: bytes) -> None:
    assert problem(data).code is ErrorCode.EMPTY_FILE


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"Student ID,Date\n1,\x00\x00\x00\x002025", "binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
        ("Student ID,Date\n".encode("utf-16"), "UTF-16"),
        (bytes(range(1, 32)) * 50, "binary"),
    ],
)
def test_binary_files(data: bytes, says: str) -> None:
    found = problem(data)
    assert found.code is ErrorCode.BINARY_FILE
    assert says in found.message


@pytest.mark.parametrize(
    "data", [b"Student ID,Date", b"Student ID,Date\r\n", b"Student ID,Date\n\n , \n,,\n"]
)
def test_a_header_without_data_rows(data: bytes) -> None:
    table = opened(data)  # known only once the stream ends
    with pytest.raises(FileProblem) as caught:
        next(table.rows())
    assert caught.value.code is ErrorCode.NO_DATA_ROWS


def test_missing_required_columns_are_named_in_order() -> None:
    found = problem(b"Student Name,Colour\nZoe,red\n")
    assert found.code is ErrorCode.MISSING_COLUMNS
    assert found.message == "missing columns: Student ID, Date"
    assert str(found) == found.message


def test_open_reads_only_the_sample() -> None:
    taken = 0

    def source() -> Iterator[bytes]:
        nonlocal taken
        for chunk in chunked(attendance_csv(20_000).encode(), 4096):
            taken += 1
            yield chunk

    table = open_table("f.csv", source(), COLUMNS)
    assert taken * 4096 <= SAMPLE_BYTES + 4096
    assert sum(1 for _ in table.rows()) == 20_000


# -- any table, any chunking --------------------------------------------------------------

_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), max_size=12
) | st.sampled_from(["a,b", 'say "hi"', "two\nlines", "cr\r\nlf", " padded "])


@settings(max_examples=60, deadline=None)
@given(
    body=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=15),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    size=st.integers(1, 50),
)
def test_any_table_reads_back(body: list[list[str]], delimiter: str, size: int) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([["Student ID", "Date", "Name"], *body])
    columns = (Column("id", "Student ID"), Column("day", "Date"), Column("name", "Name"))
    kept = [
        (i + 2, [c.strip() for c in cells])
        for i, cells in enumerate(body)
        if any(c.strip() for c in cells)
    ]
    if not kept:
        return
    got = rows(out.getvalue().encode(), size, columns)
    assert [(r.number, [r.values["id"], r.values["day"], r.values["name"]]) for r in got] == kept
