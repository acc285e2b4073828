"""Assessments: i-Ready diagnostics and generic assessments, academic years and growth."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.models import Assessment, AssessmentKind
from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.db import DriverSql, driver_fetch, loaded_from_driver
from app.events import service as events
from app.events.service import Topic
from app.students import service as students

# i-Ready exports say "Reading" for ELA.
SUBJECT_ALIASES = {"READING": "ELA", "ELA": "ELA", "MATH": "MATH", "MATHEMATICS": "MATH"}
_LEVELS_BELOW = re.compile(r"(\d+)\s*(?:or more\s+)?grade levels?\s+below", re.IGNORECASE)
_LEVELS_ABOVE = re.compile(r"(\d+)\s*(?:or more\s+)?grade levels?\s+above", re.IGNORECASE)


def academic_year_for(day: date) -> str:
    """A school year starts on 1 August: 2025-09-10 and 2026-03-01 are both '2025-2026'."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


# From kindergarten to grade 12 and beyond: no placement is further than this from a grade.
MAX_GRADE_LEVELS = 13
# An i-Ready diagnostic's overall scale score (DESIGN).
DIAGNOSTIC_SCALE = (100, 800)


def grade_levels_relative(relative_placement: str | None) -> int | None:
    """'2 Grade Levels Below' -> -2; 'Early On Grade Level' / 'Mid or Above' -> 0."""
    if not relative_placement:
        return None
    text = relative_placement.strip()
    if m := _LEVELS_BELOW.search(text):
        return -int(m.group(1))
    if m := _LEVELS_ABOVE.search(text):
        return int(m.group(1))
    if re.search(r"grade level", text, re.IGNORECASE):
        return 0
    return None


def normalise_subject(subject: str) -> str:
    cleaned = subject.strip().upper()
    return SUBJECT_ALIASES.get(cleaned, cleaned)


@dataclass
class AssessmentData:
    student_id: uuid.UUID
    kind: AssessmentKind
    subject: str
    taken_on: date
    name: str | None = None
    academic_year: str | None = None
    score: Decimal | None = None
    max_score: Decimal | None = None
    scale_score: int | None = None
    placement: str | None = None
    relative_placement: str | None = None
    percentile: int | None = None
    lexile: str | None = None
    quantile: str | None = None
    typical_growth: int | None = None
    # As sent: checked (a flat object of names to scores) and cleaned by clean.
    domain_scores: Any = field(default_factory=dict)


@dataclass(frozen=True)
class Growth:
    subject: str
    academic_year: str
    first_score: int
    latest_score: int
    points: int
    typical_growth: int | None

    @property
    def percent_of_typical(self) -> float | None:
        if not self.typical_growth:
            return None
        return round(self.points * 100 / self.typical_growth, 1)


def clean(data: AssessmentData, prefix: str = "") -> tuple[dict[str, Any], list[FieldError]]:
    """The row's columns as stored (every text as Validator.text returns it: NFC, trimmed,
    blank as None), and what is wrong with the item, each error naming `{prefix}<field>`."""
    v = Validator(prefix)

    def text(field_name: str, value: str | None, contract: contracts.Contract) -> str | None:
        return v.text(field_name, value, max_length=contract.length)

    subject = v.text("subject", data.subject, max_length=contracts.Subject.length, required=True)
    subject = normalise_subject(subject) if subject else ""
    name = text("name", data.name, contracts.Name)
    placement = text("placement", data.placement, contracts.Placement)
    relative = text("relativePlacement", data.relative_placement, contracts.RelativePlacement)
    lexile = text("lexile", data.lexile, contracts.Measure)
    quantile = text("quantile", data.quantile, contracts.Measure)
    year = text("academicYear", data.academic_year, contracts.AcademicYear)
    if data.kind is AssessmentKind.DIAGNOSTIC:
        if data.scale_score is None:
            v.add("scaleScore", "a diagnostic needs scaleScore", ErrorCode.REQUIRED)
        v.int_range("scaleScore", data.scale_score, *DIAGNOSTIC_SCALE)
        if subject and subject not in {"ELA", "MATH"}:
            v.add("subject", "a diagnostic's subject is ELA (Reading) or MATH", ErrorCode.INVALID)
    else:
        if data.score is None:
            v.add("score", f"a {data.kind.value.lower()} needs score", ErrorCode.REQUIRED)
        if data.max_score is not None and data.max_score <= 0:
            v.add("maxScore", "maxScore must be positive", ErrorCode.OUT_OF_RANGE)
        if (
            data.score is not None
            and data.max_score is not None
            and not 0 <= data.score <= data.max_score
        ):
            v.add("score", "score must be between 0 and maxScore", ErrorCode.OUT_OF_RANGE)
    low, high = contracts.Percentile.bounds
    v.int_range("percentile", data.percentile, int(low), int(high))
    levels = grade_levels_relative(relative)
    if abs(levels or 0) > MAX_GRADE_LEVELS:
        v.add(
            "relativePlacement",
            f"relativePlacement is at most {MAX_GRADE_LEVELS} grade levels above or below",
            ErrorCode.OUT_OF_RANGE,
        )
    domain_scores = v.scores(
        "domainScores",
        data.domain_scores,
        max_items=contracts.Scores.max_entries or 0,
        max_length=contracts.Label.length,
        bounds=contracts.DomainScore.bounds,
    )
    if year and not re.fullmatch(r"\d{4}-\d{4}", year):
        v.add("academicYear", "academicYear looks like 2025-2026", ErrorCode.INVALID)
    values: dict[str, Any] = {
        "student_id": data.student_id,
        "kind": data.kind,
        "subject": subject,
        "name": name,
        "taken_on": data.taken_on,
        "academic_year": year or academic_year_for(data.taken_on),
        "score": data.score,
        "max_score": data.max_score,
        "scale_score": data.scale_score,
        "placement": placement,
        "relative_placement": relative,
        "grade_levels_relative": levels,
        "percentile": data.percentile,
        "lexile": lexile,
        "quantile": quantile,
        "typical_growth": data.typical_growth,
        "domain_scores": domain_scores,
    }
    return values, v.errors


_COLUMNS = list(sa_inspect(Assessment).column_attrs)


_OLD = audit.old_columns(Assessment)
# The natural key (uq_assessments_natural_key, NULLS NOT DISTINCT: one unnamed result a day).
_KEY = ("student_id", "kind", "subject", "taken_on", "name")
# A record replaces everything but the row's identity and its creation time.
_IDENTITY = {"id", "org_id", *_KEY}
# asyncpg binds at most 32767 parameters in one statement: longer batches take several.
_MAX_PARAMETERS = 32_767


def _upsert(rows: list[dict[str, Any]]) -> Executable:
    stmt = insert(Assessment).values(rows)
    replaced = {name: stmt.excluded[name] for name in rows[0] if name not in _IDENTITY}
    return (
        stmt.on_conflict_do_update(
            index_elements=[getattr(Assessment, name) for name in _KEY],
            set_={**replaced, "updated_at": func.now()},
        )
        .returning(Assessment, *_OLD)
        .execution_options(populate_existing=True)
    )


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    student_id, kind, subject, taken_on, name = key
    return (student_id, kind.value, subject, taken_on, name is not None, name or "")


async def save_many(
    session: AsyncSession,
    *,
    actor: Principal,
    items: Sequence[AssessmentData],
    source: str = "console",
    list_name: str | None = "items",
) -> list[Assessment]:
    """Insert or replace (same student, kind, subject, date and name) assessments, all or
    none: every item is checked before anything is written. Errors name
    `{list_name}[i].<field>` whatever the batch size; `list_name=None` is for one item sent
    as a single object (plain `<field>`). One INSERT ... ON CONFLICT DO UPDATE writes the
    batch (a later item of the same key wins), so concurrent results for one key cannot race:
    the later waits on the row lock, then replaces, and its audit 'before' is exactly what it
    replaced. Returns the stored row of each item, in order. (Use flows.record_many, which
    also recomputes risk.)"""
    errors: list[FieldError] = []
    cleaned: list[dict[str, Any]] = []
    for i, data in enumerate(items):
        values, item_errors = clean(data, "" if list_name is None else f"{list_name}[{i}].")
        cleaned.append(values)
        errors += item_errors
    errors += await students.unknown_student_errors(
        session,
        org_id=actor.org_id,
        student_ids=[d.student_id for d in items],
        list_name=list_name,
    )
    if errors:
        raise ServiceError(errors)

    # One ON CONFLICT DO UPDATE may not touch a row twice: the later item of a key wins.
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for values in cleaned:
        key = tuple(values[name] for name in _KEY)
        latest[key] = {"id": uuid.uuid4(), "org_id": actor.org_id, **values, "source": source}
    # In key order, so that concurrent batches lock shared rows in the same order.
    rows = [latest[key] for key in sorted(latest, key=_sort_key)]
    stored: dict[tuple[Any, ...], Assessment] = {}
    changes: list[tuple[Assessment, dict[str, Any] | None]] = []
    per_statement = _MAX_PARAMETERS // len(rows[0]) if rows else 1
    for start in range(0, len(rows), per_statement):
        for row in await session.execute(_upsert(rows[start : start + per_statement])):
            saved: Assessment = row[0]
            stored[tuple(getattr(saved, name) for name in _KEY)] = saved
            changes.append((saved, audit.before_upsert(Assessment, row._mapping)))
    await audit.record_many(session, actor=actor, action="assessment.record", changes=changes)
    recorded: dict[uuid.UUID, list[str]] = {}
    for saved in stored.values():
        recorded.setdefault(saved.student_id, []).append(str(saved.id))
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.ASSESSMENT_RECORDED,
        students={sid: {"assessmentIds": sorted(ids)} for sid, ids in recorded.items()},
    )
    return [stored[tuple(values[name] for name in _KEY)] for values in cleaned]


async def for_students(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    subject: str | None = None,
) -> dict[uuid.UUID, list[Assessment]]:
    """Each student's assessments, newest first."""
    ids = list(student_ids)
    stmt = select(Assessment).where(Assessment.org_id == org_id, Assessment.student_id.in_(ids))
    if subject:
        stmt = stmt.where(Assessment.subject == normalise_subject(subject))
    stmt = stmt.order_by(Assessment.taken_on.desc(), Assessment.id)
    out: dict[uuid.UUID, list[Assessment]] = {sid: [] for sid in ids}
    for row in (await session.execute(stmt)).scalars():
        out[row.student_id].append(row)
    return out


async def latest_diagnostics(
    session: AsyncSession, *, org_id: uuid.UUID, student_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Assessment]]:
    """Each student's latest diagnostic per subject, in one statement."""
    ids = list(student_ids)
    out: dict[uuid.UUID, list[Assessment]] = {sid: [] for sid in ids}
    statement = _LATEST_DIAGNOSTICS
    for record in await driver_fetch(
        session, statement.sql, *statement.args({"org_id": org_id, "ids": ids})
    ):
        row = loaded_from_driver(session, Assessment, record)
        out[row.student_id].append(row)
    return out


def latest_diagnostics_sql(student: str) -> str:
    """One student's latest diagnostic per subject, as a SELECT of assessments' rows:
    `student` is the SQL expression of the student's id, `:org_id` a parameter. The one copy
    of the rule: risk reads it inside its own statement (app.risk.service)."""
    return (
        "SELECT DISTINCT ON (subject) * FROM assessments"
        f" WHERE org_id = :org_id AND student_id = {student} AND kind = 'DIAGNOSTIC'"
        " ORDER BY subject, taken_on DESC"
    )


# Through the driver: risk reads it on every incident, the dashboard for every student.
_LATEST_DIAGNOSTICS = DriverSql.of(
    "SELECT d.* FROM unnest(CAST(:ids AS uuid[])) AS u(id)"
    f" CROSS JOIN LATERAL ({latest_diagnostics_sql('u.id')}) AS d"
)


def growth(diagnostics: Iterable[Assessment]) -> list[Growth]:
    """Per subject and year: the change from the first to the latest diagnostic."""
    by_key: dict[tuple[str, str], list[Assessment]] = {}
    for row in diagnostics:
        if row.kind is AssessmentKind.DIAGNOSTIC and row.scale_score is not None:
            by_key.setdefault((row.subject, row.academic_year), []).append(row)
    out = []
    for (subject, year), rows in sorted(by_key.items()):
        rows.sort(key=lambda r: r.taken_on)
        first, latest = rows[0], rows[-1]
        assert first.scale_score is not None and latest.scale_score is not None
        typical = next((r.typical_growth for r in reversed(rows) if r.typical_growth), None)
        out.append(
            Growth(
                subject=subject,
                academic_year=year,
                first_score=first.scale_score,
                latest_score=latest.scale_score,
                points=latest.scale_score - first.scale_score,
                typical_growth=typical,
            )
        )
    return out
