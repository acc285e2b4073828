"""The records a file's rows become: clean, typed, and checked as far as one row allows.

What needs the database (the student's mapping, the org's attendance codes and school
year, duplicates across rows) is the import service's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeAlias

from app.incidents.models import IncidentKind
from app.students.service import UNSET, Maybe


@dataclass(frozen=True)
class RosterRecord:
    """A student. An optional field is UNSET when the file has no such column (the stored
    value is kept), None when its cell is blank (the value is cleared)."""

    row: int
    file: str
    external_id: str
    name: str
    class_code: Maybe[str | None] = UNSET
    year_group: Maybe[int | None] = UNSET  # -1 (pre-kindergarten, nursery) .. 13
    campus: Maybe[str | None] = UNSET
    support_level: Maybe[int | None] = UNSET  # 0..3
    support_notes: Maybe[str | None] = UNSET


@dataclass(frozen=True)
class AttendanceRecord:
    """One student's day. A blank code means present (negative attendance): the all-day
    code is then None, and a blank period is left out of period_codes."""

    row: int
    file: str
    external_id: str
    name: str | None  # for a student the roster does not know yet
    day: date
    all_day_code: str | None  # upper case
    period_codes: dict[str, str]  # period number ("1" .. "20") -> code, upper case
    scheduled_periods: int
    period_headers: dict[str, str] = field(default_factory=dict)  # period -> its column


@dataclass(frozen=True)
class IreadyRecord:
    """One i-Ready diagnostic. domain_scores is the flat object the assessments service
    takes: a domain's scale score under its name ("Phonics": 512), its placements under
    "<domain> Placement" and "<domain> Relative Placement"; blank cells are left out."""

    row: int
    file: str
    external_id: str
    subject: str  # ELA or MATH
    academic_year: str | None  # "2025-2026", as the export states it
    taken_on: date
    scale_score: int  # 100..800
    placement: str | None
    relative_placement: str | None
    percentile: int | None  # 1..99
    lexile: str | None
    quantile: str | None
    typical_growth: int | None
    domain_scores: dict[str, float | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentRecord:
    """A historical behaviour incident. occurred_at is in UTC: a file's naive times (and
    bare dates, taken at midnight) are read as UTC, and times with an offset converted."""

    row: int
    file: str
    external_id: str
    occurred_at: datetime
    kind: IncidentKind
    category: str
    points: int | None
    note: str | None
    staff: str | None
    class_code: str | None


Record: TypeAlias = RosterRecord | AttendanceRecord | IreadyRecord | IncidentRecord
