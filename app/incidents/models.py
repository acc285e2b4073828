from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class IncidentKind(enum.StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    NEUTRAL = "NEUTRAL"


class Incident(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    __tablename__ = "incidents"
    __table_args__ = (
        # Offline clients resend with the same client id; the second send creates nothing.
        UniqueConstraint("org_id", "client_id"),
        Index("ix_incidents_student_occurred", "student_id", "occurred_at", "id"),
        Index("ix_incidents_org_occurred", "org_id", "occurred_at", "id"),
        Index("ix_incidents_org_class_occurred", "org_id", "class_code", "occurred_at"),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[IncidentKind] = mapped_column(
        Enum(IncidentKind, name="incident_kind"), nullable=False
    )
    category: Mapped[str] = mapped_column(String(100), nullable=False)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    class_code: Mapped[str | None] = mapped_column(String(32))
    lesson_session_id: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    antecedent: Mapped[str | None] = mapped_column(Text)
    behaviour: Mapped[str | None] = mapped_column(Text)
    consequence: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100), nullable=False, default="console")
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    # sha256 of what the client sent with client_id: a resend must match it (see flows).
    client_fingerprint: Mapped[str | None] = mapped_column(String(64))
    logged_by: Mapped[str | None] = mapped_column(String(200))

    strike_level: Mapped[int | None] = mapped_column(SmallInteger)
    consequence_text: Mapped[str | None] = mapped_column(String(200))
    admin_notified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hod_consulted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    parent_meeting_scheduled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    # A void incident stays in the record but counts for nothing: strikes, points, risk.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[str | None] = mapped_column(String(200))
    void_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None
