"""An import job, its uploaded files (stored in chunks, durably, before the job is queued),
its row errors, and what it changed (so that it can be rolled back)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey
from app.imports.kinds import ImportKind


class ImportStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"  # every row accepted (or unchanged, or skipped on purpose)
    PARTIAL = "PARTIAL"  # some rows rejected: see the job's errors
    FAILED = "FAILED"  # a file could not be read as a table: nothing written
    ROLLED_BACK = "ROLLED_BACK"


FINISHED = frozenset(
    {ImportStatus.SUCCEEDED, ImportStatus.PARTIAL, ImportStatus.FAILED, ImportStatus.ROLLED_BACK}
)


class ImportJob(UUIDPrimaryKey, Timestamps, OrgOwned, Base):
    __tablename__ = "import_jobs"
    __table_args__ = (
        Index("ix_import_jobs_org_id_created_at", "org_id", "created_at"),
        Index("ix_import_jobs_status_heartbeat_at", "status", "heartbeat_at"),
    )

    kind: Mapped[ImportKind] = mapped_column(
        Enum(ImportKind, name="import_kind", native_enum=False, length=16), nullable=False
    )
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, name="import_status", native_enum=False, length=16),
        nullable=False,
        default=ImportStatus.QUEUED,
    )
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Who started it: its rows are written, and audited, as theirs.
    created_by: Mapped[str] = mapped_column(String(255), nullable=False)
    created_role: Mapped[str] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written with every committed batch: a RUNNING job whose heartbeat is old lost its
    # worker, and the sweep hands it to another.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Where the last committed batch ended: the file's position and its last row number.
    resume_file: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    resume_row: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inserted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_students: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportFile(UUIDPrimaryKey, OrgOwned, Base):
    __tablename__ = "import_files"
    __table_args__ = (Index("ix_import_files_job_id_position", "job_id", "position", unique=True),)

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    chunks: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class ImportFileChunk(OrgOwned, Base):
    """A file's bytes, a chunk a row, so the worker streams them whatever the file's size."""

    __tablename__ = "import_file_chunks"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ImportRowError(OrgOwned, Base):
    """A rejected row (or, with row null, a file that could not be read), as a spreadsheet
    names it: the header is row 1."""

    __tablename__ = "import_errors"
    __table_args__ = (Index("ix_import_errors_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
    )
    file: Mapped[str] = mapped_column(String(255), nullable=False)
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    code: Mapped[str] = mapped_column(String(32), nullable=False)


class ImportChange(OrgOwned, Base):
    """A row an import inserted (before: null) or updated (before: the values it replaced),
    so rollbackImport can undo exactly that."""

    __tablename__ = "import_changes"
    __table_args__ = (Index("ix_import_changes_job_id_id", "job_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[str] = mapped_column(String(32), nullable=False)  # the table
    entity_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    student_id: Mapped[uuid.UUID | None] = mapped_column()  # whose risk to recompute
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))


class ImportKey(OrgOwned, Base):
    """A key (a student and day, say) an import has taken, and the row that last had it: a
    later row with the same key replaces it, and the earlier one is reported. Kept in the
    database, not in the worker's memory, so memory stays flat whatever the file's size
    and a resumed job still knows the keys of its committed batches; deleted when the job
    ends."""

    __tablename__ = "import_keys"

    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    file: Mapped[str] = mapped_column(String(255), nullable=False)
    row: Mapped[int] = mapped_column(Integer, nullable=False)
