from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, UUIDPrimaryKey


class FileKind(enum.StrEnum):
    STUDENT_RECORD = "STUDENT_RECORD"  # a FERPA access request: everything held, as a ZIP
    IEP_REPORT = "IEP_REPORT"
    IEP_REPORTS = "IEP_REPORTS"


class FileStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"  # past expires_at: the file is gone, the row stays as its history


class GeneratedFile(UUIDPrimaryKey, OrgOwned, Base):
    """A file a job makes for someone (an export, a report) and its download's life."""

    __tablename__ = "generated_files"
    __mapper_args__ = {"eager_defaults": True}  # created_at back by RETURNING (async)
    __table_args__ = (
        Index("ix_generated_files_status_expires_at", "status", "expires_at"),
        Index("ix_generated_files_student_id", "student_id"),
    )

    kind: Mapped[FileKind] = mapped_column(
        Enum(FileKind, name="file_kind", native_enum=False, length=24), nullable=False
    )
    status: Mapped[FileStatus] = mapped_column(
        Enum(FileStatus, name="file_status", native_enum=False, length=16),
        nullable=False,
        default=FileStatus.QUEUED,
    )
    # The one student it is about (null for a caseload's); erasure deletes it with them.
    student_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE")
    )
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_role: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    name: Mapped[str | None] = mapped_column(String(255))  # the download's file name
    path: Mapped[str | None] = mapped_column(String(500))  # under Settings.generated_files_dir
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # progress
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Runs begun (each start counts one); a file still unmade after MAX_ATTEMPTS is FAILED.
    attempts: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=0, server_default="0"
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ErasureStatus(enum.StrEnum):
    ERASED = "ERASED"  # the database's part committed; files still to remove and verify
    VERIFIED = "VERIFIED"  # files removed and no trace found anywhere


class Erasure(UUIDPrimaryKey, OrgOwned, Base):
    """The tombstone of an erased student: who, when, why and how many rows of each table;
    nothing about the student (no id, no name)."""

    __tablename__ = "erasures"
    __mapper_args__ = {"eager_defaults": True}

    actor_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False)
    status: Mapped[ErasureStatus] = mapped_column(
        Enum(ErasureStatus, name="erasure_status", native_enum=False, length=16), nullable=False
    )
    # Generated files to remove from disk after commit (paths only: no personal data).
    pending_files: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    erased_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
