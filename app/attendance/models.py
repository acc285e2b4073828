from __future__ import annotations

import enum
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class AttendanceCategory(enum.StrEnum):
    PRESENT = "PRESENT"
    EXCUSED = "EXCUSED"
    UNEXCUSED = "UNEXCUSED"
    TARDY = "TARDY"
    SUSPENSION = "SUSPENSION"
    TRUANCY = "TRUANCY"


class DailyStatus(enum.StrEnum):
    PRESENT = "PRESENT"
    TARDY = "TARDY"
    PARTIAL = "PARTIAL"
    ABSENT_EXCUSED = "ABSENT_EXCUSED"
    ABSENT_UNEXCUSED = "ABSENT_UNEXCUSED"
    SUSPENDED = "SUSPENDED"
    TRUANT = "TRUANT"


class AttendanceCode(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """A district's attendance code and what it means (each org has its own table)."""

    __tablename__ = "attendance_codes"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    code: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[AttendanceCategory] = mapped_column(
        Enum(AttendanceCategory, name="attendance_category"), nullable=False
    )
    description: Mapped[str | None] = mapped_column(String(200))


class AttendanceDay(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """One student's attendance on one school day."""

    __tablename__ = "attendance_days"
    __table_args__ = (
        UniqueConstraint("student_id", "day"),
        Index("ix_attendance_days_org_day", "org_id", "day"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    all_day_code: Mapped[str | None] = mapped_column(String(16))
    # {"1": "A", "3": "T"}: period number -> code; a period with no code is present.
    period_codes: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    scheduled_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    present_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    daily_status: Mapped[DailyStatus] = mapped_column(
        Enum(DailyStatus, name="daily_status"), nullable=False
    )
    # present periods / scheduled periods, 0..1
    percentage: Mapped[Decimal] = mapped_column(Numeric(5, 4), nullable=False)
    # Periods carrying each non-present category (an all-day absence code: every scheduled
    # period; an all-day tardy code: one tardy period). A day counts toward every category
    # whose count is above 0, so an A period and a T period make it unexcused and tardy.
    excused_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    unexcused_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    tardy_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    suspension_periods: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default="0"
    )
    truancy_periods: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0")
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="console")
