"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:08:22.565051
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.rls import APP_ROLE, CREATE_APP_ROLE, enable_rls

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ORG_TABLES = (
    "users",
    "students",
    "incidents",
    "attendance_codes",
    "attendance_days",
    "assessments",
    "risk_assessments",
    "interventions",
    "audit_log",
)
ENUMS = (
    "role",
    "incident_kind",
    "attendance_category",
    "daily_status",
    "assessment_kind",
    "intervention_status",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    for statement in CREATE_APP_ROLE:
        op.execute(statement)
    op.create_table(
        "orgs",
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
        sa.UniqueConstraint("slug", name=op.f("uq_orgs_slug")),
    )
    op.create_table(
        "attendance_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "PRESENT",
                "EXCUSED",
                "UNEXCUSED",
                "TARDY",
                "SUSPENSION",
                "TRUANCY",
                name="attendance_category",
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_codes_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_codes")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_attendance_codes_org_id_code")),
    )
    op.create_index(
        op.f("ix_attendance_codes_org_id"), "attendance_codes", ["org_id"], unique=False
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("actor_sub", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_audit_log_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id"], unique=False)
    op.create_index(op.f("ix_audit_log_org_id"), "audit_log", ["org_id"], unique=False)
    op.create_table(
        "students",
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("class_code", sa.String(length=32), nullable=True),
        sa.Column("year_group", sa.SmallInteger(), nullable=True),
        sa.Column("campus", sa.String(length=100), nullable=True),
        sa.Column("support_level", sa.SmallInteger(), nullable=False),
        sa.Column("support_notes", sa.Text(), nullable=True),
        sa.Column("risk_tier", sa.SmallInteger(), nullable=False),
        sa.Column("risk_score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("risk_factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("risk_computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("house_points", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("risk_tier BETWEEN 1 AND 3", name=op.f("ck_students_risk_tier_range")),
        sa.CheckConstraint(
            "support_level BETWEEN 0 AND 3", name=op.f("ck_students_support_level_range")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_students_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
        sa.UniqueConstraint("org_id", "external_id", name=op.f("uq_students_org_id_external_id")),
    )
    op.create_index(
        "ix_students_org_class_name", "students", ["org_id", "class_code", "name"], unique=False
    )
    op.create_index(op.f("ix_students_org_id"), "students", ["org_id"], unique=False)
    op.create_index("ix_students_org_name_id", "students", ["org_id", "name", "id"], unique=False)
    op.create_index(
        "ix_students_org_tier_name", "students", ["org_id", "risk_tier", "name"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "role", sa.Enum("ADMIN", "TEACHER", "AIDE", "INTEGRATION", name="role"), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_users_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("org_id", "sub", name=op.f("uq_users_org_id_sub")),
    )
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"], unique=False)
    op.create_table(
        "assessments",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", sa.Enum("DIAGNOSTIC", "EXAM", "PROBE", name="assessment_kind"), nullable=False
        ),
        sa.Column("subject", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("max_score", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("scale_score", sa.Integer(), nullable=True),
        sa.Column("placement", sa.String(length=50), nullable=True),
        sa.Column("relative_placement", sa.String(length=100), nullable=True),
        sa.Column("grade_levels_relative", sa.SmallInteger(), nullable=True),
        sa.Column("percentile", sa.SmallInteger(), nullable=True),
        sa.Column("lexile", sa.String(length=20), nullable=True),
        sa.Column("quantile", sa.String(length=20), nullable=True),
        sa.Column("typical_growth", sa.Integer(), nullable=True),
        sa.Column("domain_scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_assessments_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_assessments_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index(op.f("ix_assessments_org_id"), "assessments", ["org_id"], unique=False)
    op.create_index(
        "ix_assessments_student_taken",
        "assessments",
        ["student_id", "subject", "taken_on"],
        unique=False,
    )
    op.create_index(
        "uq_assessments_natural_key",
        "assessments",
        ["student_id", "kind", "subject", "taken_on", "name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "attendance_days",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("all_day_code", sa.String(length=16), nullable=True),
        sa.Column("period_codes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scheduled_periods", sa.SmallInteger(), nullable=False),
        sa.Column("present_periods", sa.SmallInteger(), nullable=False),
        sa.Column(
            "daily_status",
            sa.Enum(
                "PRESENT",
                "TARDY",
                "PARTIAL",
                "ABSENT_EXCUSED",
                "ABSENT_UNEXCUSED",
                "SUSPENDED",
                "TRUANT",
                name="daily_status",
            ),
            nullable=False,
        ),
        sa.Column("percentage", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_attendance_days_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_attendance_days_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_days")),
        sa.UniqueConstraint("student_id", "day", name=op.f("uq_attendance_days_student_id_day")),
    )
    op.create_index(
        "ix_attendance_days_org_day", "attendance_days", ["org_id", "day"], unique=False
    )
    op.create_index(op.f("ix_attendance_days_org_id"), "attendance_days", ["org_id"], unique=False)
    op.create_table(
        "incidents",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind", sa.Enum("POSITIVE", "NEGATIVE", "NEUTRAL", name="incident_kind"), nullable=False
        ),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("class_code", sa.String(length=32), nullable=True),
        sa.Column("lesson_session_id", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("antecedent", sa.Text(), nullable=True),
        sa.Column("behaviour", sa.Text(), nullable=True),
        sa.Column("consequence", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("logged_by", sa.String(length=200), nullable=True),
        sa.Column("strike_level", sa.SmallInteger(), nullable=True),
        sa.Column("consequence_text", sa.String(length=200), nullable=True),
        sa.Column("admin_notified", sa.Boolean(), nullable=False),
        sa.Column("hod_consulted", sa.Boolean(), nullable=False),
        sa.Column("parent_meeting_scheduled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_incidents_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_incidents_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("org_id", "client_id", name=op.f("uq_incidents_org_id_client_id")),
    )
    op.create_index(
        "ix_incidents_org_class_occurred",
        "incidents",
        ["org_id", "class_code", "occurred_at"],
        unique=False,
    )
    op.create_index(op.f("ix_incidents_org_id"), "incidents", ["org_id"], unique=False)
    op.create_index(
        "ix_incidents_org_occurred", "incidents", ["org_id", "occurred_at", "id"], unique=False
    )
    op.create_index(
        "ix_incidents_student_occurred",
        "incidents",
        ["student_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_table(
        "interventions",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PLANNED", "ACTIVE", "COMPLETED", "DISCONTINUED", name="intervention_status"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_interventions_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_interventions_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interventions")),
    )
    op.create_index(op.f("ix_interventions_org_id"), "interventions", ["org_id"], unique=False)
    op.create_index(
        "ix_interventions_student_start",
        "interventions",
        ["student_id", "start_date"],
        unique=False,
    )
    op.create_table(
        "risk_assessments",
        sa.Column("student_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("factors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_risk_assessments_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["students.id"],
            name=op.f("fk_risk_assessments_student_id_students"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
    )
    op.create_index(
        op.f("ix_risk_assessments_org_id"), "risk_assessments", ["org_id"], unique=False
    )
    op.create_index(
        "ix_risk_assessments_student_computed",
        "risk_assessments",
        ["student_id", "computed_at"],
        unique=False,
    )
    # Organisations are looked up by slug before any org is known: readable, not writable.
    op.execute(f"GRANT SELECT ON orgs TO {APP_ROLE}")
    for table in ORG_TABLES:
        for statement in enable_rls(table):
            op.execute(statement)
    # The audit log is append-only for the application.
    op.execute(f"REVOKE UPDATE, DELETE ON audit_log FROM {APP_ROLE}")


def downgrade() -> None:
    op.drop_index("ix_risk_assessments_student_computed", table_name="risk_assessments")
    op.drop_index(op.f("ix_risk_assessments_org_id"), table_name="risk_assessments")
    op.drop_table("risk_assessments")
    op.drop_index("ix_interventions_student_start", table_name="interventions")
    op.drop_index(op.f("ix_interventions_org_id"), table_name="interventions")
    op.drop_table("interventions")
    op.drop_index("ix_incidents_student_occurred", table_name="incidents")
    op.drop_index("ix_incidents_org_occurred", table_name="incidents")
    op.drop_index(op.f("ix_incidents_org_id"), table_name="incidents")
    op.drop_index("ix_incidents_org_class_occurred", table_name="incidents")
    op.drop_table("incidents")
    op.drop_index(op.f("ix_attendance_days_org_id"), table_name="attendance_days")
    op.drop_index("ix_attendance_days_org_day", table_name="attendance_days")
    op.drop_table("attendance_days")
    op.drop_index(
        "uq_assessments_natural_key", table_name="assessments", postgresql_nulls_not_distinct=True
    )
    op.drop_index("ix_assessments_student_taken", table_name="assessments")
    op.drop_index(op.f("ix_assessments_org_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_index(op.f("ix_users_org_id"), table_name="users")
    op.drop_table("users")
    op.drop_index("ix_students_org_tier_name", table_name="students")
    op.drop_index("ix_students_org_name_id", table_name="students")
    op.drop_index(op.f("ix_students_org_id"), table_name="students")
    op.drop_index("ix_students_org_class_name", table_name="students")
    op.drop_table("students")
    op.drop_index(op.f("ix_audit_log_org_id"), table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_attendance_codes_org_id"), table_name="attendance_codes")
    op.drop_table("attendance_codes")
    op.drop_table("orgs")
    for name in ENUMS:
        op.execute(f"DROP TYPE IF EXISTS {name}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
