"""search: documents with embeddings and full text, and reindex requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:00:00

The HNSW index is one per embedding model (a partial expression index, as the column holds
vectors of any dimension): the default model's is created here, on an empty table; another
model's is created by the worker (CONCURRENTLY) when it first indexes with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.rls import enable_rls

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_MODEL = "wordllama-l2_supercat-256/r1"
DEFAULT_INDEX = "ix_documents_embedding_wordllama_l2_supercat_256_r1_0e2f9d7a"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("intervention_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("concepts", postgresql.ARRAY(sa.SmallInteger()), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.Vector(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("dim", sa.SmallInteger(), nullable=False),
        sa.Column(
            "tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english', content), 'A')"
                " || setweight(to_tsvector('english', label), 'B')"
                " || setweight(to_tsvector('english', terms), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "indexed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(source_type IN ('INCIDENT_NOTE', 'IMPORTED_COMMENT')) = (incident_id IS NOT NULL)"
            " AND (source_type = 'INTERVENTION_NOTES') = (intervention_id IS NOT NULL)",
            name=op.f("ck_documents_source_reference"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_documents_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_documents_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_documents_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_documents_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "org_id",
            "source_type",
            "source_id",
            name=op.f("uq_documents_org_id_source_type_source_id"),
        ),
    )
    op.create_index("ix_documents_org_student", "documents", ["org_id", "student_id"])
    op.create_index(op.f("ix_documents_org_id"), "documents", ["org_id"])
    op.create_index("ix_documents_tsv", "documents", ["tsv"], postgresql_using="gin")
    op.create_index(op.f("ix_documents_incident_id"), "documents", ["incident_id"])
    op.create_index(op.f("ix_documents_intervention_id"), "documents", ["intervention_id"])
    op.create_index(op.f("ix_documents_student_id"), "documents", ["student_id"])
    op.execute(
        f"CREATE INDEX {DEFAULT_INDEX} ON documents"
        " USING hnsw ((embedding::vector(256)) vector_cosine_ops)"
        f" WHERE model = '{DEFAULT_MODEL}'"
    )
    op.create_table(
        "search_reindex",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_search_reindex_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_search_reindex")),
    )
    for table in ("documents", "search_reindex"):
        for statement in enable_rls(table):
            op.execute(statement)
    # Under row-level security Postgres uses an index for a condition only if its function
    # is LEAKPROOF (it may not run before the policy's own check otherwise), and `tsvector
    # @@ tsquery` is not marked so: every full-text match would read the whole table. The
    # function answers true or false and raises nothing about the rows it reads. Marking
    # it needs a superuser (the embedded server, the compose file's); without one, search
    # still answers, its full-text side by scanning the org's documents.
    op.execute(
        """DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF;
    ELSE
        RAISE NOTICE 'not a superuser: ts_match_vq left as it is (full-text search'
            ' scans instead of using its index; a superuser can run: ALTER FUNCTION'
            ' ts_match_vq(tsvector, tsquery) LEAKPROOF)';
    END IF;
END $$"""
    )


def downgrade() -> None:
    op.drop_table("search_reindex")
    op.drop_table("documents")
