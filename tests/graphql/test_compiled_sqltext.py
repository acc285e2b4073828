"""The SQL encoders write global ids, cursors and instants byte for byte as the Python does."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from app.core.pagination import encode_cursor
from app.db import Database
from app.graphql.compiled import sqltext
from app.graphql.relay import to_global_id
from app.incidents.service import NEWEST_FIRST
from app.students.service import NAME_ORDER

TEXTS = [
    "",
    "Ava Okafor",
    'O\'Brien "Bob" \\ back/slash',
    "José Ñúñez",
    "Zoë 😀 Smith",
    "tab\there\nnew\rline\x08\x0c",
    "\x01\x1f\x7f\x80\u00ff\u0100\u07ff\u0800\uffff",
    "𝄞 music and 中文",
    "a" * 80 + "é" * 40,  # past base64's 76-character lines
]
INSTANTS = [
    datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    datetime(2026, 11, 2, 9, 30, 0, 1, tzinfo=UTC),
    datetime(2026, 11, 2, 9, 30, 5, 120000, tzinfo=UTC),
    datetime(2001, 1, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-7))),
]


async def _scalar(db: Database, sql: str, **params: object) -> object:
    async with db.admin_transaction() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def test_python_json_string_matches_json_dumps(db: Database) -> None:
    for value in TEXTS:
        got = await _scalar(db, f"SELECT {sqltext.python_json_string('CAST(:v AS text)')}", v=value)
        assert got == json.dumps(value), value


async def test_student_cursor_matches_encode_cursor(db: Database) -> None:
    for value in TEXTS:
        row_id = uuid.uuid4()
        sql = (
            "SELECT "
            + sqltext.cursor(NAME_ORDER, "x")
            + " FROM (SELECT CAST(:name AS text) AS name,"
            " CAST(:id AS uuid) AS id) AS x"
        )
        got = await _scalar(db, sql, name=value, id=row_id)
        assert got == encode_cursor([value, row_id]), value


async def test_incident_cursor_and_datetime_match_python(db: Database) -> None:
    for instant in INSTANTS:
        row_id = uuid.uuid4()
        sql = (
            "SELECT " + sqltext.cursor(NEWEST_FIRST, "x") + " FROM (SELECT"
            " CAST(:at AS timestamptz) AS occurred_at, CAST(:id AS uuid) AS id) AS x"
        )
        got = await _scalar(db, sql, at=instant, id=row_id)
        # asyncpg gives the instant back in UTC, and the resolver path encodes that.
        assert got == encode_cursor([instant.astimezone(UTC), row_id])
        iso = await _scalar(
            db, f"SELECT {sqltext.iso_datetime('CAST(:at AS timestamptz)')}", at=instant
        )
        assert iso == instant.astimezone(UTC).isoformat()


async def test_global_id_matches_to_global_id(db: Database) -> None:
    for type_name in ("Student", "Incident"):
        row_id = uuid.uuid4()
        got = await _scalar(
            db, f"SELECT {sqltext.global_id(type_name, 'CAST(:id AS uuid)')}", id=row_id
        )
        assert got == to_global_id(type_name, row_id)
