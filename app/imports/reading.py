"""Reading an uploaded file as a table: the file and header layers of import validation.

Pure and streaming: the file comes in as byte chunks and leaves as rows, one at a time, so
memory stays flat whatever the file size. Nothing here knows a database.

- File: empty, binary (or a workbook, a PDF, UTF-16), the encoding (UTF-8, UTF-8 with a BOM,
  else cp1252, or latin-1 when cp1252 leaves a byte undefined) and the delimiter.
- Headers: each header is matched to a Column through its aliases; missing required columns
  are named; headers no Column takes are kept in `Table.unknown` for the format to judge.
- Rows numbered as a spreadsheet shows them: the header is row 1 (a quoted field spanning
  lines is still one row, and a blank line is a row too, though it is not yielded).
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from app.core.errors import ErrorCode

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A "line" this long without a line break is cut: memory stays bounded on a file with none.
MAX_LINE_CHARS = 1024 * 1024
REPLACEMENT = "\ufffd"

_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes cp1252 leaves undefined: a sample holding one is read as latin-1.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
# C0 controls that text files do not hold (tab, LF, VT, FF and CR aside).
_CONTROL_BYTES = frozenset(set(range(0x20)) - set(b"\t\n\x0b\x0c\r"))
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive or an Excel workbook (.xlsx): export it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls): export it as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)
_EOL = re.compile(r"\r\n|\r|\n")
_NOT_ALNUM = re.compile(r"[\W_]+")
_SEP_LINE = re.compile(r"sep=(.)", re.IGNORECASE)


class FileProblem(Exception):
    """The file cannot be read as a table at all: the import fails with this one error."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str  # the canonical key, snake_case
    label: str  # the name shown in messages, e.g. "Student ID"
    aliases: tuple[str, ...] = ()  # accepted header spellings (name and label match too)
    required: bool = False


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]  # canonical name -> cell text, stripped (mapped columns only)
    cells: dict[str, str]  # header as in the file -> cell text, stripped (every column)
    # Set when the csv module could not read the record (a field over its size limit):
    # values and cells are then empty, and the format reports the row as invalid.
    problem: str | None = None


def normalise_header(text: str) -> str:
    """'\\ufeff Student_ID ' -> 'student id': BOM and whitespace stripped, case folded,
    every run of non-alphanumeric characters one space."""
    folded = unicodedata.normalize("NFKC", text.replace("\ufeff", "")).casefold()
    return _NOT_ALNUM.sub(" ", folded).strip()


def header_key(text: str) -> str:
    """What headers are compared by: normalised, spaces dropped, so 'StudentID',
    'student_id' and 'Student ID' are one spelling."""
    return normalise_header(text).replace(" ", "")


class Table:
    """An opened file: what was detected, how its headers map, and its rows (read once)."""

    def __init__(
        self,
        *,
        file: str,
        encoding: str,
        delimiter: str,
        headers: list[str],
        mapping: dict[str, int],
        unknown: list[str],
        records: Iterator[list[str]],
        header_row: int,
    ) -> None:
        self.file = file
        self.encoding = encoding
        self.delimiter = delimiter
        self.headers = headers
        self.mapping = mapping
        self.unknown = unknown
        self._records: Iterator[list[str]] | None = records
        self._header_row = header_row

    def rows(self) -> Iterator[Row]:
        """The data rows, streamed, blank records skipped. Raises FileProblem(NO_DATA_ROWS)
        at the end when there was none. The file is read once: a second call raises."""
        if self._records is None:
            raise RuntimeError(f"the rows of {self.file!r} were already read")
        records, self._records = self._records, None
        return self._rows(records)

    def _rows(self, records: Iterator[list[str]]) -> Iterator[Row]:
        # The first header of each spelling keys `cells`; a blank header has no cell.
        columns = [
            (i, header)
            for i, header in enumerate(self.headers)
            if header and self.headers.index(header) == i
        ]
        mapped = list(self.mapping.items())
        number = self._header_row
        yielded = 0
        while True:
            number += 1
            try:
                record = next(records)
            except StopIteration:
                break
            except csv.Error as exc:
                yielded += 1
                yield Row(number, {}, {}, problem=f"the row could not be read as CSV ({exc})")
                continue
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            width = len(cells)
            yielded += 1
            yield Row(
                number,
                {name: cells[i] if i < width else "" for name, i in mapped},
                {header: cells[i] if i < width else "" for i, header in columns},
            )
        if not yielded:
            raise FileProblem(ErrorCode.NO_DATA_ROWS, "the file has a header row but no data rows")


ColumnsFor = Callable[[list[str]], Sequence[Column]]


def open_table(file: str, chunks: Iterable[bytes], columns: Sequence[Column] | ColumnsFor) -> Table:
    """Open `chunks` (the file's bytes in order) as a table: detect the encoding from the
    first 64 KiB, sniff the delimiter from the header line, read the header and map it to
    `columns` (or to the columns `columns(headers)` chooses, for a format whose layout
    depends on its headers). Raises FileProblem for the file and header layers; the rows
    are read later, through Table.rows()."""
    stream = iter(chunks)
    head: list[bytes] = []
    size = 0
    for chunk in stream:
        if chunk:
            head.append(bytes(chunk))
            size += len(chunk)
            if size >= SAMPLE_BYTES:
                break
    sample = b"".join(head)[:SAMPLE_BYTES]
    _check_bytes(sample, complete=size < SAMPLE_BYTES)
    encoding = _detect_encoding(sample)
    delimiter, sep_line = _sniff(_decode_sample(sample, encoding))
    lines = _lines(_decode(encoding, _chain(head, stream)))
    records = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)

    number, header = 0, None
    try:
        for record in records:
            if not any(cell.strip() for cell in record):
                number += 1
            elif sep_line:  # Excel's "sep=;" line is not shown as a row
                sep_line = False
            else:
                number += 1
                header = record
                break
    except csv.Error as exc:
        raise FileProblem(
            ErrorCode.INVALID, f"the header row could not be read as CSV ({exc})"
        ) from None
    if header is None:
        raise FileProblem(ErrorCode.EMPTY_FILE, "the file is empty")
    headers = [cell.replace("\ufeff", "").strip() for cell in header]
    chosen = list(columns(headers) if callable(columns) else columns)
    mapping, unknown = _map_headers(headers, chosen)
    missing = [c.label for c in chosen if c.required and c.name not in mapping]
    if missing:
        raise FileProblem(ErrorCode.MISSING_COLUMNS, "missing columns: " + ", ".join(missing))
    return Table(
        file=file,
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        mapping=mapping,
        unknown=unknown,
        records=records,
        header_row=number,
    )


def _map_headers(headers: list[str], columns: Sequence[Column]) -> tuple[dict[str, int], list[str]]:
    """Each header goes to the first column it matches, and each column takes the first
    header matching it; a later header for a taken column is unknown, a blank one ignored."""
    by_key: dict[str, Column] = {}
    for column in columns:
        for spelling in (column.name, column.label, *column.aliases):
            by_key.setdefault(header_key(spelling), column)
    mapping: dict[str, int] = {}
    unknown: list[str] = []
    for i, header in enumerate(headers):
        if not header:
            continue
        match = by_key.get(header_key(header))
        if match is not None and match.name not in mapping:
            mapping[match.name] = i
        else:
            unknown.append(header)
    return mapping, unknown


def _check_bytes(sample: bytes, *, complete: bool) -> None:
    """The file layer on the first 64 KiB: empty, binary, or not a text file at all."""
    if not sample or (complete and not sample.removeprefix(_BOM).strip()):
        raise FileProblem(ErrorCode.EMPTY_FILE, "the file is empty")
    if sample.startswith(_UTF16_BOMS):
        raise FileProblem(
            ErrorCode.BINARY_FILE,
            "the file is UTF-16 text, which is not read here: save it as CSV (UTF-8)",
        )
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            raise FileProblem(ErrorCode.BINARY_FILE, f"the file is {what}, not a CSV file")
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    # A stray control character is a bad cell (reported on its row); many are no text.
    if b"\x00" in sample or (controls > 8 and controls * 20 > len(sample)):
        raise FileProblem(ErrorCode.BINARY_FILE, "the file is binary, not a CSV file")


def _detect_encoding(sample: bytes) -> str:
    if sample.startswith(_BOM):
        return "utf-8-sig"
    try:
        # Not final: the sample may end inside a character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "latin-1" if _CP1252_UNDEFINED.intersection(sample) else "cp1252"
    return "utf-8"


def _decode_sample(sample: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)


def _sniff(text: str) -> tuple[str, bool]:
    """(delimiter, whether the first line is Excel's "sep=" line), from the header line:
    the candidate seen most often outside quotes wins; ',' when none is seen."""
    line = next((line for line in _EOL.split(text) if line.strip()), "")
    if sep := _SEP_LINE.fullmatch(line.strip().lstrip("\ufeff")):
        return sep.group(1), True
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # the first of equals
    return (best if counts[best] else ","), False


def _chain(head: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    while head:
        yield head.pop(0)  # released as it is read
    yield from rest


def _decode(encoding: str, chunks: Iterator[bytes]) -> Iterator[str]:
    """Text, decoded incrementally (a character split across chunks is whole), with bytes
    invalid in the encoding as U+FFFD; NUL too, which the csv module refuses."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text.replace("\x00", REPLACEMENT)
    if text := decoder.decode(b"", final=True):
        yield text.replace("\x00", REPLACEMENT)


def _lines(texts: Iterator[str]) -> Iterator[str]:
    """Lines with their endings (CRLF, LF, or a lone CR), as the csv module reads them.
    Each text is sliced where it is, not copied onto what is pending."""
    pending = ""
    for text in texts:
        if pending.endswith("\r") and not text.startswith("\n"):
            yield pending  # a lone CR ended it
            pending = ""
        start = 0
        for match in _EOL.finditer(text):
            end = match.end()
            if end == len(text) and match.group() == "\r":
                break  # the next text may start with its "\n"
            if pending:
                yield pending + text[start:end]
                pending = ""
            else:
                yield text[start:end]
            start = end
        pending += text[start:]
        if len(pending) > MAX_LINE_CHARS:
            yield pending
            pending = ""
    if pending:
        yield pending
