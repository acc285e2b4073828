"""SQL used by migrations to build the second wall: the app role and row-level security.

The application connects as whatever DATABASE_URL names (often the owner or a superuser), and
each transaction switches to APP_ROLE, which owns nothing, so RLS policies really apply.
Each helper returns single statements (asyncpg prepares one command at a time).
"""

from __future__ import annotations

APP_ROLE = "schoolgraph_app"

CREATE_APP_ROLE = [
    f"""DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END $$""",
    f"GRANT {APP_ROLE} TO CURRENT_USER",
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
]

_CURRENT_ORG = "NULLIF(current_setting('app.org_id', true), '')::uuid"


def enable_rls(table: str) -> list[str]:
    """Grant the app role access to `table` and restrict it to the current org's rows."""
    return [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY org_isolation ON {table} "
        f"USING (org_id = {_CURRENT_ORG}) WITH CHECK (org_id = {_CURRENT_ORG})",
    ]
