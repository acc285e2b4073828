from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, Numeric, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class AssessmentKind(enum.StrEnum):
    DIAGNOSTIC = "DIAGNOSTIC"
    EXAM = "EXAM"
    PROBE = "PROBE"


class Assessment(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """An i-Ready diagnostic (kind DIAGNOSTIC) or a generic assessment with score/max."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_student_taken", "student_id", "subject", "taken_on"),
        Index(
            "uq_assessments_natural_key",
            "student_id",
            "kind",
            "subject",
            "taken_on",
            "name",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[AssessmentKind] = mapped_column(
        Enum(AssessmentKind, name="assessment_kind"), nullable=False
    )
    subject: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    taken_on: Mapped[date] = mapped_column(Date, nullable=False)
    academic_year: Mapped[str] = mapped_column(String(9), nullable=False)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="console")

    # Generic assessments
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))

    # i-Ready diagnostics
    scale_score: Mapped[int | None] = mapped_column(Integer)
    placement: Mapped[str | None] = mapped_column(String(50))
    relative_placement: Mapped[str | None] = mapped_column(String(100))
    # Grade levels relative to the student's grade: -2 means two grade levels below.
    grade_levels_relative: Mapped[int | None] = mapped_column(SmallInteger)
    percentile: Mapped[int | None] = mapped_column(SmallInteger)
    lexile: Mapped[str | None] = mapped_column(String(20))
    quantile: Mapped[str | None] = mapped_column(String(20))
    typical_growth: Mapped[int | None] = mapped_column(Integer)
    domain_scores: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
