from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, UUIDPrimaryKey


class SourceType(enum.StrEnum):
    """What a document was written as. IMPORTED_COMMENT: an incident's note that came in
    through an import (CSV, SIS, Sheets) rather than from staff in the app."""

    INCIDENT_NOTE = "INCIDENT_NOTE"
    IMPORTED_COMMENT = "IMPORTED_COMMENT"
    SUPPORT_NOTES = "SUPPORT_NOTES"
    INTERVENTION_NOTES = "INTERVENTION_NOTES"


INCIDENT_SOURCES = (SourceType.INCIDENT_NOTE, SourceType.IMPORTED_COMMENT)
# What aides may find: never support notes or intervention notes.
AIDE_SOURCES = INCIDENT_SOURCES

# The full-text vector: the note itself weighs most, then its label (the incident's
# category, the intervention's type), then the taxonomy's terms for it (app.search.recipe).
TSV_EXPRESSION = (
    "setweight(to_tsvector('english', content), 'A')"
    " || setweight(to_tsvector('english', label), 'B')"
    " || setweight(to_tsvector('english', terms), 'C')"
)


class Document(UUIDPrimaryKey, OrgOwned, Base):
    """One per source row that has text: replaced when the text (or the active model)
    changes, deleted with its source (a voided incident, a cleared note: by the indexer)."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("org_id", "source_type", "source_id"),
        Index("ix_documents_org_student", "org_id", "student_id"),
        Index("ix_documents_tsv", "tsv", postgresql_using="gin"),
        CheckConstraint(
            "(source_type IN ('INCIDENT_NOTE', 'IMPORTED_COMMENT')) = (incident_id IS NOT NULL)"
            " AND (source_type = 'INTERVENTION_NOTES') = (intervention_id IS NOT NULL)",
            name="source_reference",
        ),
    )

    student_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True
    )
    source_type: Mapped[str] = mapped_column(String(32), nullable=False)
    source_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    # The source again, as a foreign key where the source has a table of its own, so that
    # deleting the source deletes its document in the same statement.
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    intervention_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interventions.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    terms: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The taxonomy concepts the text carries (indexes into app.search.recipe.TAXONOMY, which
    # only grows at its end: a recipe change re-derives them for every document anyway).
    concepts: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), nullable=False, default=list)
    # md5 of the source's label and text as app.search.sources reads them: a document whose
    # hash differs from its source's is stale.
    content_hash: Mapped[str] = mapped_column(String(32), nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    embedding = mapped_column(Vector(), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    dim: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    tsv = mapped_column(TSVECTOR, Computed(TSV_EXPRESSION, persisted=True), nullable=False)
    indexed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class Reindex(Base):
    """An org's request to rebuild its documents: every document indexed before
    `requested_at` counts as stale until the indexer has done it again (progress is what is
    left, counted from the data; a lost job is picked up again by the sweep)."""

    __tablename__ = "search_reindex"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    requested_by: Mapped[str | None] = mapped_column(String(200))
