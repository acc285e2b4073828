"""Assessments: i-Ready diagnostics and generic assessments, academic years and growth."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments.models import Assessment, AssessmentKind
from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
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
    # As sent: checked (a flat object of names to scores) and cleaned by _validate.
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


def _validate(data: AssessmentData, prefix: str = "") -> list[FieldError]:
    v = Validator(prefix)
    v.text("subject", data.subject, max_length=50, required=True)
    v.text("name", data.name, max_length=200)
    if data.kind is AssessmentKind.DIAGNOSTIC:
        if data.scale_score is None:
            v.add("scaleScore", "a diagnostic needs scaleScore", ErrorCode.REQUIRED)
        v.int_range("scaleScore", data.scale_score, 100, 800)
        if normalise_subject(data.subject) not in {"ELA", "MATH"}:
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
    v.int_range("percentile", data.percentile, 1, 99)
    if abs(grade_levels_relative(data.relative_placement) or 0) > MAX_GRADE_LEVELS:
        v.add(
            "relativePlacement",
            f"relativePlacement is at most {MAX_GRADE_LEVELS} grade levels above or below",
            ErrorCode.OUT_OF_RANGE,
        )
    data.domain_scores = v.scores("domainScores", data.domain_scores)
    if data.academic_year and not re.fullmatch(r"\d{4}-\d{4}", data.academic_year):
        v.add("academicYear", "academicYear looks like 2025-2026", ErrorCode.INVALID)
    return v.errors


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
    as a single object (plain `<field>`). (Use flows.record_many, which also recomputes
    risk.)"""
    errors: list[FieldError] = []
    for i, data in enumerate(items):
        errors += _validate(data, "" if list_name is None else f"{list_name}[{i}].")
    errors += await students.unknown_student_errors(
        session,
        org_id=actor.org_id,
        student_ids=[d.student_id for d in items],
        list_name=list_name,
    )
    student_ids = {d.student_id for d in items}
    if errors:
        raise ServiceError(errors)

    def key(
        student_id: uuid.UUID, kind: AssessmentKind, subject: str, taken_on: date, name: str | None
    ) -> tuple[object, ...]:
        return (student_id, kind, subject, taken_on, name)

    existing = {
        key(r.student_id, r.kind, r.subject, r.taken_on, r.name): r
        for r in (
            await session.execute(
                select(Assessment).where(
                    Assessment.org_id == actor.org_id,
                    Assessment.student_id.in_(student_ids),
                    Assessment.taken_on.in_({d.taken_on for d in items}),
                )
            )
        ).scalars()
    }
    changes: list[tuple[Assessment, dict[str, Any] | None]] = []
    for data in items:
        subject = normalise_subject(data.subject)
        name = data.name.strip() if data.name else None
        k = key(data.student_id, data.kind, subject, data.taken_on, name)
        row = existing.get(k)
        before = None if row is None else audit.snapshot(row)
        if row is None:
            row = existing[k] = Assessment(org_id=actor.org_id, student_id=data.student_id)
            session.add(row)
        _apply(row, data, subject=subject, name=name, source=source)
        changes.append((row, before))
    await audit.record_many(session, actor=actor, action="assessment.record", changes=changes)
    return [row for row, _ in changes]


def _apply(
    row: Assessment, data: AssessmentData, *, subject: str, name: str | None, source: str
) -> None:
    row.kind = data.kind
    row.subject = subject
    row.name = name
    row.taken_on = data.taken_on
    row.academic_year = data.academic_year or academic_year_for(data.taken_on)
    row.source = source
    row.score = data.score
    row.max_score = data.max_score
    row.scale_score = data.scale_score
    row.placement = data.placement
    row.relative_placement = data.relative_placement
    row.grade_levels_relative = grade_levels_relative(data.relative_placement)
    row.percentile = data.percentile
    row.lexile = data.lexile
    row.quantile = data.quantile
    row.typical_growth = data.typical_growth
    row.domain_scores = data.domain_scores


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
    stmt = (
        select(Assessment)
        .where(
            Assessment.org_id == org_id,
            Assessment.student_id.in_(ids),
            Assessment.kind == AssessmentKind.DIAGNOSTIC,
        )
        .ext(distinct_on(Assessment.student_id, Assessment.subject))
        .order_by(Assessment.student_id, Assessment.subject, Assessment.taken_on.desc())
    )
    out: dict[uuid.UUID, list[Assessment]] = {sid: [] for sid in ids}
    for row in (await session.execute(stmt)).scalars():
        out[row.student_id].append(row)
    return out


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
