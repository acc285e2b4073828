"""i-Ready "Diagnostic Results" exports, ELA ("Reading") and Math, one diagnostic a row.

Domain columns are found by their headers: "<domain> Scale Score", "<domain> Placement" and
"<domain> Relative Placement". Reading's comprehension domains are spelled two ways
("Reading Comprehension: Literature", "Comprehension: Literature"); both give the key
"Comprehension: Literature".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.assessments.service import DIAGNOSTIC_SCALE
from app.core import contracts
from app.core.errors import ErrorCode
from app.imports.formats.base import Cells, Format, PerTable, RowError, known
from app.imports.formats.records import IreadyRecord
from app.imports.kinds import ImportKind
from app.imports.reading import Column, Row, Table, header_key

COLUMNS = (
    Column(
        "external_id", "Student ID",
        ("student id", "student number", "sis id", "external id", "id"), required=True,
    ),
    Column("subject", "Subject", ("subject",), required=True),
    Column("academic_year", "Academic Year", ("academic year", "school year")),
    Column(
        "taken_on", "Completion Date",
        ("completion date", "completed date", "date completed", "test date", "diagnostic date"),
        required=True,
    ),
    Column(
        "scale_score", "Overall Scale Score", ("overall scale score", "scale score"),
        required=True,
    ),
    Column("placement", "Overall Placement", ("overall placement", "placement")),
    Column(
        "relative_placement", "Overall Relative Placement",
        ("overall relative placement", "relative placement"),
    ),
    Column("percentile", "Percentile", ("percentile", "overall percentile", "percentile rank")),
    Column("lexile", "Lexile Measure", ("lexile measure", "lexile")),
    Column("quantile", "Quantile Measure", ("quantile measure", "quantile")),
    Column(
        "typical_growth", "Annual Typical Growth Measure",
        ("annual typical growth measure", "typical growth measure", "typical growth"),
    ),
)  # fmt: skip

# Columns of the export that we do not store: neither read nor worth a warning.
_IGNORED = known(
    "Student Last Name", "Student First Name", "Last Name", "First Name", "Student Grade",
    "Grade", "School", "School Name", "Start Date", "Baseline Diagnostic (Y/N)",
    "Most Recent Diagnostic (Y/N)", "Most Recent Diagnostic YTD (Y/N)", "Duration (min)",
    "Rush Flag", "Grouping", "Lexile Range", "Quantile Range", "Diagnostic Gain",
    "Annual Stretch Growth Measure", "Percent Progress to Annual Typical Growth (%)",
    "Percent Progress to Annual Stretch Growth (%)", "Mid On Grade Level Scale Score",
    "Reading Difficulty Indicator (Y/N)", "Diagnostic Language", "Enrolled", "Class(es)",
    "Class Teacher(s)", "Report Group(s)",
)  # fmt: skip
_SUBJECTS = {
    "reading": "ELA", "ela": "ELA", "englishlanguagearts": "ELA",
    "math": "MATH", "maths": "MATH", "mathematics": "MATH",
}  # fmt: skip
_DOMAIN = re.compile(r"(.*?)[\s:_-]*(scale score|relative placement|placement)\s*", re.I)
_COMPREHENSION = re.compile(r"(?:reading\s+)?comprehension\s*:\s*", re.I)
_YEAR = re.compile("(\\d{4})\\s*[-/\u2013]\\s*(\\d{4}|\\d{2})")  # 2025-2026, 2025/26
_MEASURES = {
    "scale score": "",
    "placement": " Placement",
    "relative placement": " Relative Placement",
}
_MEASURE_CONTRACTS = {
    "scale score": None,
    "placement": contracts.Placement,
    "relative placement": contracts.RelativePlacement,
}


def domain_key(header: str) -> tuple[str, str] | None:
    """(key in domain_scores, measure) for a domain column, None for any other header:
    'Phonics Scale Score' -> ('Phonics', 'scale score'), 'Reading Comprehension:
    Literature Placement' -> ('Comprehension: Literature Placement', 'placement')."""
    match = _DOMAIN.fullmatch(header.strip())
    if match is None:
        return None
    domain = " ".join(match[1].split())
    domain = _COMPREHENSION.sub("Comprehension: ", domain, count=1)
    if not domain or header_key(domain) in {"overall", "midongradelevel"}:
        return None
    measure = match[2].lower()
    return domain + _MEASURES[measure], measure


@dataclass(frozen=True)
class _Domains:
    columns: tuple[tuple[str, str, str], ...]  # (header, key, measure), the first per key
    ignored: frozenset[str]


def _plan(table: Table) -> _Domains:
    """The domain columns among the headers no Column took, as many as a domain_scores
    object may hold, each key short enough to be a key; the rest stay unknown."""
    keys: set[str] = set()
    columns = []
    ignored = frozenset(_IGNORED(table))
    for header in table.unknown:
        found = None if header in ignored else domain_key(header)
        if found is None or found[0] in keys or len(found[0]) > contracts.Label.length:
            continue
        if len(keys) < (contracts.Scores.max_entries or 0):
            keys.add(found[0])
            columns.append((header, *found))
    return _Domains(tuple(columns), ignored)


_domains = PerTable(_plan)


def _uses(table: Table) -> set[str]:
    plan = _domains(table)
    return {header for header, _, _ in plan.columns} | plan.ignored


def _academic_year(cells: Cells) -> str | None:
    """'2025-2026' (also '2025-26', '2025/2026'), two consecutive years."""
    column, value = cells.header("academic_year"), cells.raw("academic_year")
    if not value:
        return None
    if match := _YEAR.fullmatch(value.strip()):
        start, end = int(match[1]), match[2]
        if int(end) == (start + 1 if len(end) == 4 else (start + 1) % 100):
            return f"{start}-{start + 1}"
    message = f"{column} must be a school year such as 2025-2026"
    cells.add(column, value, message, ErrorCode.INVALID)
    return None


def _domain_scores(cells: Cells, plan: _Domains) -> dict[str, float | str | None]:
    scores: dict[str, float | str | None] = {}
    for header, key, measure in plan.columns:
        value = cells.row.cells.get(header, "")
        contract = _MEASURE_CONTRACTS[measure]
        if contract is None:
            number = cells.number_of(header, value, DIAGNOSTIC_SCALE)
            if number is not None:
                scores[key] = int(number)
        elif (text := cells.text_of(header, value, contract)) is not None:
            scores[key] = text
    return scores


def _parse(row: Row, table: Table) -> IreadyRecord | list[RowError] | None:
    cells = Cells(row, table, COLUMNS)
    if (problem := cells.problem()) is not None:
        return problem
    external_id = cells.text("external_id", contracts.ExternalId, required=True)
    subject = cells.choice("subject", _SUBJECTS, "Reading (ELA) or Math")
    if not cells.raw("subject"):
        cells.required(cells.header("subject"))
    taken_on = cells.day("taken_on", required=True)
    score_column, score = cells.header("scale_score"), cells.raw("scale_score")
    scale_score = cells.number_of(score_column, score, DIAGNOSTIC_SCALE)
    if not score:
        cells.required(score_column)
    record = IreadyRecord(
        row=row.number,
        file=table.file,
        external_id=external_id or "",
        subject=subject or "",
        academic_year=_academic_year(cells),
        taken_on=taken_on or contracts.EARLIEST,
        scale_score=int(scale_score or 0),
        placement=cells.text("placement", contracts.Placement),
        relative_placement=cells.text("relative_placement", contracts.RelativePlacement),
        percentile=cells.integer("percentile", contracts.Percentile),
        lexile=cells.text("lexile", contracts.Measure),
        quantile=cells.text("quantile", contracts.Measure),
        typical_growth=cells.integer("typical_growth", contracts.Growth),
        domain_scores=_domain_scores(cells, _domains(table)),
    )
    return cells.errors or record


FORMAT = Format(ImportKind.IREADY, "iready", COLUMNS, _parse, uses=_uses)
