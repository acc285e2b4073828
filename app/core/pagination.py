"""Keyset (seek) pagination: cursors name the last row's sort key, so pages stay stable
while rows are inserted (offset cursors would shift)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, or_

from app.core.errors import ErrorCode, ServiceError

T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    column: Any  # an InstrumentedAttribute
    descending: bool = False


@dataclass
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "u" in value:
            return uuid.UUID(value["u"])
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int, field: str = "after") -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        return [_decode_value(v) for v in values]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ServiceError.single(field, "not a valid cursor", ErrorCode.INVALID) from exc


def seek_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `keys` describes (mixed directions allowed)."""
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        value = values[i]
        if value is None:
            # NULLs sort last ascending: nothing comes after NULL on this key
            step: ColumnElement[bool] = false() if not key.descending else key.column.is_not(None)
        elif key.descending:
            step = key.column < value
        else:
            step = or_(key.column > value, key.column.is_(None))
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [k.column.desc().nulls_last() if k.descending else k.column.asc() for k in keys]


def check_first(first: int | None, max_page_size: int, field: str = "first") -> int:
    if first is None:
        return min(20, max_page_size)
    if first < 0 or first > max_page_size:
        raise ServiceError.single(
            field, f"{field} must be between 0 and {max_page_size}", ErrorCode.OUT_OF_RANGE
        )
    return first


def apply_keyset(
    stmt: Select[Any], keys: Sequence[SortKey], first: int, after: str | None
) -> Select[Any]:
    if after:
        stmt = stmt.where(seek_condition(keys, decode_cursor(after, len(keys))))
    return stmt.order_by(*order_by(keys)).limit(first + 1)


def to_page(rows: Sequence[T], keys: Sequence[SortKey], first: int, after: str | None) -> Page[T]:
    """Turn the first+1 rows fetched by apply_keyset into a page."""
    items = list(rows[:first])
    cursors = [encode_cursor([getattr(r, k.column.key) for k in keys]) for r in items]
    return Page(items, cursors, has_next_page=len(rows) > first, has_previous_page=bool(after))
