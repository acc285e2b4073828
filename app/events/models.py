from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base


class Event(OrgOwned, Base):
    """A change a dashboard shows, written in the transaction of the change (the truth the
    live subscriptions replay from; their broadcasts are only hints)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_id_id", "org_id", "id"),
        Index("ix_events_org_id_txid_id", "org_id", "txid", "id"),  # replay's order
        Index("ix_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)
    # Scope keys: which school, year group, class and student (or import job) it concerns.
    year_group: Mapped[int | None] = mapped_column(SmallInteger)
    class_code: Mapped[str | None] = mapped_column(String(32))
    student_id: Mapped[uuid.UUID | None] = mapped_column()
    import_job_id: Mapped[uuid.UUID | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # The writing transaction's id: ids are allocated at insert, not at commit, so a reader
    # replaying "after id N" takes only events whose transaction committed before every one
    # still running (txid < the snapshot's xmin) and cannot skip one that commits later.
    txid: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
