"""incident void and client fingerprint

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:04:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("incidents", sa.Column("voided_by", sa.String(length=200), nullable=True))
    op.add_column("incidents", sa.Column("void_reason", sa.Text(), nullable=True))
    op.add_column("incidents", sa.Column("client_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "client_fingerprint")
    op.drop_column("incidents", "void_reason")
    op.drop_column("incidents", "voided_by")
    op.drop_column("incidents", "voided_at")
