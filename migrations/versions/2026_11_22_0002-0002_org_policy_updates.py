"""Admins update their org's policy: the app role may update orgs, guarded by RLS.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.core.rls import APP_ROLE

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CURRENT_ORG = "NULLIF(current_setting('app.org_id', true), '')::uuid"


def upgrade() -> None:
    # Not FORCE: the owner creates organisations (CLI); the app role is the one confined.
    op.execute("ALTER TABLE orgs ENABLE ROW LEVEL SECURITY")
    # Any org's row may be read (tokens name an org by slug before one is known) ...
    op.execute("CREATE POLICY orgs_read ON orgs FOR SELECT USING (true)")
    # ... but only the current org's row changed, and only its name and settings.
    op.execute(
        f"CREATE POLICY orgs_update_own ON orgs FOR UPDATE "
        f"USING (id = {_CURRENT_ORG}) WITH CHECK (id = {_CURRENT_ORG})"
    )
    op.execute(f"GRANT UPDATE (name, settings, updated_at) ON orgs TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE UPDATE (name, settings, updated_at) ON orgs FROM {APP_ROLE}")
    op.execute("DROP POLICY IF EXISTS orgs_update_own ON orgs")
    op.execute("DROP POLICY IF EXISTS orgs_read ON orgs")
    op.execute("ALTER TABLE orgs DISABLE ROW LEVEL SECURITY")
