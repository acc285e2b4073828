"""What every kind's batch shares: outcomes, changes, duplicates, student lookups."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ErrorCode, FieldError
from app.imports.formats import (
    AttendanceRecord,
    IncidentRecord,
    IreadyRecord,
    RosterRecord,
    RowError,
)
from app.students.models import Student

R = TypeVar("R", RosterRecord, AttendanceRecord, IreadyRecord, IncidentRecord)
Header = Callable[[str], str]  # a canonical column name -> its header as in the file


@dataclass(frozen=True)
class Change:
    entity: str  # the table
    entity_id: uuid.UUID
    student_id: uuid.UUID | None
    before: dict[str, Any] | None  # None: the import inserted it


@dataclass
class Outcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    created_students: int = 0
    superseded: int = 0  # rows of this batch a later row of the same key replaced
    failed_rows: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def reject(self, record: Any, errors: Sequence[FieldError], header: Header) -> None:
        self.failed_rows.add(record.row)
        for error in errors:
            name = base_field(error.field) or ""
            column = _period_column(record, error.field) or header(FIELDS.get(name, name))
            self.errors.append(
                RowError(record.row, column, None, error.message, error.code, record.file)
            )


# The services' input fields (as their errors name them) -> the formats' column names.
FIELDS = {
    "externalId": "external_id",
    "name": "name",
    "classCode": "class_code",
    "yearGroup": "year_group",
    "campus": "campus",
    "supportLevel": "support_level",
    "supportNotes": "support_notes",
    "day": "day",
    "allDayCode": "all_day_code",
    "scheduledPeriods": "scheduled_periods",
    "periodCodes": "period_codes",
    "subject": "subject",
    "takenOn": "taken_on",
    "academicYear": "academic_year",
    "scaleScore": "scale_score",
    "placement": "placement",
    "relativePlacement": "relative_placement",
    "percentile": "percentile",
    "lexile": "lexile",
    "quantile": "quantile",
    "typicalGrowth": "typical_growth",
    "kind": "kind",
    "category": "category",
    "points": "points",
    "note": "note",
    "occurredAt": "occurred_at",
    "studentId": "external_id",
}


def _period_column(record: Any, field_name: str | None) -> str | None:
    """`periodCodes[j]...` of an attendance record: the column of its j-th period."""
    found = re.search(r"periodCodes\[(\d+)\]", field_name or "")
    headers: dict[str, str] = getattr(record, "period_headers", {})
    if found is None or not headers:
        return None
    periods = list(record.period_codes)
    j = int(found[1])
    return headers.get(periods[j]) if j < len(periods) else None


def base_field(field_name: str | None) -> str | None:
    """`periodCodes[2].code` -> `periodCodes`; `days[0].day` -> `day`."""
    if field_name is None:
        return None
    last = field_name.split("].")[-1] if "]." in field_name else field_name
    return last.split("[")[0].split(".")[0]


# The batch's keys taken for the job, in one statement: a key an earlier batch (or file) of
# the job had comes back with that row, which the later one replaces.
_TAKE_KEYS = text(
    "INSERT INTO import_keys (org_id, job_id, key, file, row)"
    " SELECT :org_id, :job_id, k.key, k.file, k.row"
    " FROM unnest(CAST(:keys AS text[]), CAST(:files AS text[]), CAST(:rows AS int[]))"
    " AS k(key, file, row)"
    " ON CONFLICT (job_id, key) DO UPDATE SET file = excluded.file, row = excluded.row"
    " RETURNING old.file, old.row, import_keys.row"
)


@dataclass(frozen=True)
class Keys:
    """The job whose keys a batch takes (see ImportKey)."""

    org_id: uuid.UUID
    job_id: uuid.UUID


async def latest_of(
    session: AsyncSession,
    records: Sequence[R],
    key: Callable[[R], Hashable],
    keys: Keys,
    out: Outcome,
) -> list[R]:
    """The records of the batch, one per key: the later row wins; the earlier one is
    reported (DUPLICATE). A key an earlier batch of the job had is reported too (its row
    was written then, and this one replaces it)."""
    winners: dict[Hashable, R] = {}
    for record in records:
        k = key(record)
        earlier = winners.get(k)
        if earlier is not None:
            out.superseded += 1
            out.errors.append(_duplicate(earlier.file, earlier.row, record))
        winners[k] = record
    if winners:
        latest = list(winners.values())
        taken = await session.execute(
            _TAKE_KEYS,
            {
                "org_id": keys.org_id,
                "job_id": keys.job_id,
                "keys": [repr(k) for k in winners],
                "files": [r.file for r in latest],
                "rows": [r.row for r in latest],
            },
        )
        by_row = {r.row: r for r in latest}
        for old_file, old_row, row in taken:
            if old_row is not None:
                out.errors.append(_duplicate(old_file, old_row, by_row[row]))
    return list(winners.values())


def _duplicate(file: str, row: int, later: Any) -> RowError:
    where = f"row {later.row}" + (f" of {later.file}" if later.file != file else "")
    return RowError(
        row,
        None,
        None,
        f"row {row} is replaced by {where}, which has the same key (the later row wins)",
        ErrorCode.DUPLICATE,
        file,
    )


async def students_by_external_id(
    session: AsyncSession, org_id: uuid.UUID, external_ids: set[str]
) -> dict[str, Student]:
    rows = await session.execute(
        select(Student).where(Student.org_id == org_id, Student.external_id.in_(external_ids))
    )
    return {s.external_id: s for s in rows.scalars()}


def unmapped(record: Any, out: Outcome, header: Header) -> None:
    out.failed_rows.add(record.row)
    out.errors.append(
        RowError(
            record.row,
            header("external_id"),
            record.external_id,
            f"no student has the id {record.external_id}: import the roster first",
            ErrorCode.NOT_FOUND,
            record.file,
        )
    )
