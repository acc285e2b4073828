from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Numeric, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, UUIDPrimaryKey


class RiskAssessment(UUIDPrimaryKey, OrgOwned, Base):
    """A point in a student's risk history: written only when the tier or factors change."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_student_computed", "student_id", "computed_at"),)

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    # [{"indicator", "value", "threshold", "triggered", "detail"}] for every indicator evaluated
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    trigger: Mapped[str] = mapped_column(String(100), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
