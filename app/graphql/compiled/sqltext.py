"""SQL expressions that write values exactly as the resolver path's Python does.

- Global ids: `relay.to_global_id`, urlsafe base64 of "Type:uuid", padding kept.
- Cursors: `pagination.encode_cursor`, urlsafe base64 (padding stripped) of `json.dumps` of the
  sort-key values with `separators=(",", ":")` and the default `ensure_ascii=True`: every
  character outside printable ASCII is written `\\uXXXX` (lower-case hex, astral characters as
  a surrogate pair), and \\b \\f \\n \\r \\t \\" \\\\ as short escapes. Postgres' own `to_json`
  agrees for printable ASCII only (it writes other characters as they are, and DEL raw), so
  other text takes a character-by-character path.
- DateTime: Strawberry serialises with `datetime.isoformat()`; asyncpg returns timestamptz in
  UTC, so `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (the fraction only when it is not zero).
Each is checked against the Python functions in tests/graphql/test_compiled_sqltext.py.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Uuid

from app.core.pagination import SortKey
from app.graphql.compiled.plan import NotCompilable

# `encode(..., 'base64')` breaks lines every 76 characters: the newlines go with the rest.
_B64_TO_URLSAFE = "E'+/\\n', '-_'"

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class NotEncodable(NotCompilable):
    """A value this module cannot write as the Python path does."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


def literal_name(name: str) -> str:
    """A GraphQL name (a response key, a type name) as an SQL string literal."""
    if not _NAME.match(name):
        raise NotEncodable(f"{name!r} is not a GraphQL name")
    return f"'{name}'"


def base64url(text_sql: str, *, padded: bool) -> str:
    encoded = f"translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), {_B64_TO_URLSAFE})"
    return encoded if padded else f"rtrim({encoded}, '=')"


def global_id(type_name: str, id_sql: str) -> str:
    literal_name(type_name)
    return base64url(f"'{type_name}:' || {id_sql}::text", padded=True)


def iso_datetime(ts_sql: str) -> str:
    """A timestamptz as Python's isoformat() of the UTC datetime asyncpg returns."""
    local = f"({ts_sql} AT TIME ZONE 'UTC')"
    return f"(replace(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00')"


_CHAR_ESCAPE = (
    "CASE WHEN c = '\"' THEN '\\\"' WHEN c = '\\' THEN '\\\\'"
    " WHEN c = E'\\n' THEN '\\n' WHEN c = E'\\r' THEN '\\r' WHEN c = E'\\t' THEN '\\t'"
    " WHEN c = E'\\b' THEN '\\b' WHEN c = E'\\f' THEN '\\f'"
    " WHEN ascii(c) BETWEEN 32 AND 126 THEN c"
    " WHEN ascii(c) < 65536 THEN '\\u' || lpad(to_hex(ascii(c)), 4, '0')"
    " ELSE '\\u' || to_hex(55296 + ((ascii(c) - 65536) >> 10))"
    " || '\\u' || to_hex(56320 + ((ascii(c) - 65536) & 1023)) END"
)


def python_json_string(text_sql: str) -> str:
    """`json.dumps(value)` of a text value (null: `null`), ensure_ascii as Python's default."""
    return (
        f"CASE WHEN {text_sql} IS NULL THEN 'null'"
        f" WHEN {text_sql} ~ '^[ -~]*$' THEN to_json({text_sql}::text)::text"
        f" ELSE (SELECT '\"' || string_agg({_CHAR_ESCAPE}, '' ORDER BY n) || '\"'"
        f" FROM regexp_split_to_table({text_sql}, '') WITH ORDINALITY AS ch(c, n)) END"
    )


def cursor_value(key: SortKey, value_sql: str) -> str:
    """One sort-key value as `pagination._encode_value` then `json.dumps` write it. The
    columns are NOT NULL (checked by `sort_columns`)."""
    kind = key.column.type
    if isinstance(kind, DateTime):
        return f"'{{\"dt\":\"' || {iso_datetime(value_sql)} || '\"}}'"
    if isinstance(kind, Date):
        return f"'{{\"d\":\"' || to_char({value_sql}, 'YYYY-MM-DD') || '\"}}'"
    if isinstance(kind, Uuid):
        return f"'{{\"u\":\"' || {value_sql}::text || '\"}}'"
    if isinstance(kind, String):
        return python_json_string(value_sql)
    if isinstance(kind, Integer):
        return f"{value_sql}::text"
    raise NotEncodable(f"a cursor over {type(kind).__name__} columns")


def cursor(keys: tuple[SortKey, ...], alias: str) -> str:
    parts = " || ',' || ".join(cursor_value(k, f"{alias}.{column_of(k)}") for k in keys)
    return base64url(f"'[' || {parts} || ']'", padded=False)


def column_of(key: SortKey) -> str:
    name: str = key.column.property.columns[0].name
    return name


SQL_TYPES: dict[type[Any], str] = {
    DateTime: "timestamptz",
    Date: "date",
    Uuid: "uuid",
    String: "text",
    Integer: "integer",
}


def sql_type(key: SortKey) -> str:
    kind = key.column.type
    for cls, name in SQL_TYPES.items():
        if isinstance(kind, cls):
            return name
    raise NotEncodable(f"a sort key over {type(kind).__name__} columns")


def sort_columns(keys: tuple[SortKey, ...]) -> None:
    """Refuses sort keys the compiled seek and cursor cannot mirror: nullable columns (the
    Python seek treats NULL specially; the compiled one is a plain comparison)."""
    for key in keys:
        sql_type(key)
        if key.nullable:
            raise NotEncodable(f"sort key {column_of(key)} is nullable")
