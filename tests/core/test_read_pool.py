"""The compiled read path's plain asyncpg side (app.db.ReadPool, Database.read)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from app.config import Settings
from app.core.pagination import PageRequest, apply_keyset
from app.db import asyncpg_dsn
from app.students.models import Student
from app.students.service import NAME_ORDER


def test_the_dsn_is_asyncpgs_own() -> None:
    assert (
        asyncpg_dsn("postgres://u:p@h:5/db?sslmode=require&channel_binding=require")
        == "postgresql://u:p@h:5/db?sslmode=require"
    )
    # SQLAlchemy's dialect options would reach the server as settings and fail every connect.
    assert (
        asyncpg_dsn(
            "postgresql+asyncpg://u@h/db?prepared_statement_cache_size=0&application_name=x"
        )
        == "postgresql://u@h/db?application_name=x"
    )


@pytest.mark.parametrize("role", ["app'; DROP TABLE students; --", "a b", "", "x" * 64])
def test_the_app_role_is_an_identifier(role: str) -> None:
    """It is written as a literal into the read path's scope message."""
    with pytest.raises(ValidationError):
        Settings(db_app_role=role)


def test_backward_pages_can_read_an_index_backward() -> None:
    """NOT NULL keys get no NULLS LAST, which would keep Postgres from scanning the
    (org_id, name, id) index backward for `students(last: n)`."""
    stmt = apply_keyset(select(Student), NAME_ORDER, PageRequest(5, backward=True))
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "ORDER BY students.name DESC, students.id DESC" in sql
    assert "NULLS" not in sql
