from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class GoalDirection(enum.StrEnum):
    INCREASE = "INCREASE"  # words read a minute: higher is better
    DECREASE = "DECREASE"  # outbursts a day: lower is better


class GoalStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    MET = "MET"
    DISCONTINUED = "DISCONTINUED"


class IepGoal(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """An annual IEP goal: from `baseline` to `target` (in `unit`) by `due_date`."""

    __tablename__ = "iep_goals"
    __table_args__ = (
        Index("ix_iep_goals_student_status", "student_id", "status"),
        CheckConstraint("due_date > start_date", name="due_after_start"),
        CheckConstraint("target <> baseline", name="target_differs_from_baseline"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    area: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    baseline: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    target: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    unit: Mapped[str] = mapped_column(String(50), nullable=False)
    direction: Mapped[GoalDirection] = mapped_column(
        Enum(GoalDirection, name="iep_goal_direction", native_enum=False, length=16),
        nullable=False,
    )
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[GoalStatus] = mapped_column(
        Enum(GoalStatus, name="iep_goal_status", native_enum=False, length=16),
        nullable=False,
        default=GoalStatus.ACTIVE,
    )
    # How many of the latest probes in a row found the goal off track (app.iep.progress),
    # kept with every probe and goal change so that risk reads one number, not the probes.
    off_track_streak: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)


class IepProbe(UUIDPrimaryKey, OrgOwned, Base):
    """One measurement toward a goal. A second probe of the same goal at the same instant
    replaces the first (a batch sent twice records each probe once)."""

    __tablename__ = "iep_probes"
    __table_args__ = (
        UniqueConstraint("goal_id", "taken_at"),
        Index("ix_iep_probes_student", "student_id"),
    )

    goal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("iep_goals.id", ondelete="CASCADE"), nullable=False
    )
    # The goal's student, kept on the probe: export, erasure and retention find a
    # student's probes without the goal.
    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class IepNarrative(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    """The teacher's comment on a goal for one reporting period, printed under the goal in
    that period's progress report."""

    __tablename__ = "iep_narratives"
    __table_args__ = (
        UniqueConstraint("goal_id", "period_start", "period_end"),
        Index("ix_iep_narratives_student", "student_id"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )

    goal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("iep_goals.id", ondelete="CASCADE"), nullable=False
    )
    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    written_by: Mapped[str] = mapped_column(String(200), nullable=False)
