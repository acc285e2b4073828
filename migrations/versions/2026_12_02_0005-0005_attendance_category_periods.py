"""attendance days count the periods of each category (an A and a T period: unexcused and tardy)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CATEGORIES = ("EXCUSED", "UNEXCUSED", "TARDY", "SUSPENSION", "TRUANCY")
_ABSENT = "('EXCUSED', 'UNEXCUSED', 'SUSPENSION', 'TRUANCY')"


def _column(category: str) -> str:
    return f"{category.lower()}_periods"


def _backfill(category: str) -> str:
    """The rule of app.attendance.service.classify_day, in SQL, for rows already stored."""
    periods = (
        "(SELECT count(*) FROM jsonb_each_text(d.period_codes) AS p "
        "JOIN attendance_codes AS c ON c.org_id = d.org_id AND upper(c.code) = upper(p.value) "
        f"WHERE c.category = '{category}')"
    )
    all_day = (
        "(SELECT c.category FROM attendance_codes AS c "
        "WHERE c.org_id = d.org_id AND upper(c.code) = upper(d.all_day_code))"
    )
    if category == "TARDY":
        otherwise = f"greatest({periods}, CASE WHEN {all_day} = 'TARDY' THEN 1 ELSE 0 END)"
    else:
        otherwise = periods
    return (
        f"UPDATE attendance_days AS d SET {_column(category)} = CASE "
        f"WHEN {all_day} = '{category}' AND '{category}' IN {_ABSENT} THEN d.scheduled_periods "
        f"WHEN {all_day} IN {_ABSENT} THEN 0 "
        f"ELSE {otherwise} END"
    )


def upgrade() -> None:
    for category in _CATEGORIES:
        op.add_column(
            "attendance_days",
            sa.Column(_column(category), sa.SmallInteger(), server_default="0", nullable=False),
        )
    # FORCE ROW LEVEL SECURITY binds the owner too; the backfill reads every org's rows.
    for table in ("attendance_days", "attendance_codes"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    for category in _CATEGORIES:
        op.execute(_backfill(category))
    for table in ("attendance_days", "attendance_codes"):
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    for category in reversed(_CATEGORIES):
        op.drop_column("attendance_days", _column(category))
