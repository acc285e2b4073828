from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class Student(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    __tablename__ = "students"
    __table_args__ = (
        UniqueConstraint("org_id", "external_id"),
        CheckConstraint("support_level BETWEEN 0 AND 3", name="support_level_range"),
        CheckConstraint("risk_tier BETWEEN 1 AND 3", name="risk_tier_range"),
        Index("ix_students_org_name_id", "org_id", "name", "id"),
        Index("ix_students_org_class_name", "org_id", "class_code", "name"),
        Index("ix_students_org_tier_name", "org_id", "risk_tier", "name"),
    )

    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    class_code: Mapped[str | None] = mapped_column(String(32))
    year_group: Mapped[int | None] = mapped_column(SmallInteger)
    campus: Mapped[str | None] = mapped_column(String(100))
    support_level: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    support_notes: Mapped[str | None] = mapped_column(Text)
    # Who manages the student's IEP (printed on progress reports).
    case_manager: Mapped[str | None] = mapped_column(String(200))
    # The current risk picture, refreshed on every recompute (history: risk_assessments).
    risk_tier: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    risk_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False, default=0)
    risk_factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    risk_computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    house_points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
