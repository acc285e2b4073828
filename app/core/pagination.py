"""Keyset (seek) pagination: cursors name the last row's sort key, so pages stay stable
while rows are inserted (offset cursors would shift)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Enum,
    Integer,
    Select,
    SmallInteger,
    String,
    Uuid,
    and_,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.errors import ErrorCode, ServiceError

T = TypeVar("T")

# Longer than any cursor we issue: (tier, a 200-character name, a UUID) takes at most ~3,300
# characters, its JSON escaping every character outside ASCII (an astral one as 12).
MAX_CURSOR_LENGTH = 4096
# A text part of a column that declares no length.
MAX_TEXT_PART = 1000
# A tagged part's string ("2025-01-01T08:00:00+00:00", a UUID) is never longer.
_MAX_TAGGED = 64
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# What a cursor part may be, by its column's type; Enum (a String) is not one of them.
_CARRIED = (DateTime, Date, Uuid, Integer, String)
_INT_BITS = ((SmallInteger, 16), (BigInteger, 64), (Integer, 32))


@dataclass(frozen=True)
class SortKey:
    column: Any  # an InstrumentedAttribute of a column cursors can carry (see _check_part)
    descending: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.column.type, _CARRIED) or isinstance(self.column.type, Enum):
            raise TypeError(f"a cursor cannot carry {self.column} ({self.column.type})")

    @property
    def nullable(self) -> bool:
        return bool(getattr(self.column.expression, "nullable", True))


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
    """A part as JSON has it: a tagged object becomes its type, anything else stays as it is
    (and is then checked against its column)."""
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise ValueError("a tagged cursor part has one key")
    ((tag, text),) = value.items()
    if not isinstance(text, str) or len(text) > _MAX_TAGGED:
        raise ValueError("a tagged cursor part holds a short string")
    if tag == "dt":
        return datetime.fromisoformat(text)
    if tag == "d":
        return date.fromisoformat(text)
    if tag == "u":
        return uuid.UUID(text)
    raise ValueError(f"unknown cursor tag {tag!r}")


def _check_part(key: SortKey, value: Any) -> None:
    """Raises ValueError unless `value` is one its column can be compared with in SQL: the
    column's Python type, within the range Postgres stores (and asyncpg encodes)."""
    if value is None:
        if not key.nullable:
            raise ValueError("null for a column that is never null")
        return
    kind = key.column.type
    if isinstance(kind, DateTime):
        if not isinstance(value, datetime) or (value.tzinfo is not None) != bool(kind.timezone):
            raise ValueError("not a timestamp (with a time zone when the column has one)")
        if value.tzinfo is not None:
            try:
                value.astimezone(UTC)  # asyncpg sends it in UTC
            except OverflowError as exc:
                raise ValueError("outside years 1 to 9999 in UTC") from exc
    elif isinstance(kind, Date):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError("not a date")
    elif isinstance(kind, Uuid):
        if not isinstance(value, uuid.UUID):
            raise ValueError("not a UUID")
    elif isinstance(kind, Integer):
        bits = next(b for t, b in _INT_BITS if isinstance(kind, t))
        if type(value) is not int or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"not a {bits}-bit integer")
    elif isinstance(kind, String):
        if not isinstance(value, str) or len(value) > (kind.length or MAX_TEXT_PART):
            raise ValueError("not a text of the column's length")
        if "\x00" in value:
            raise ValueError("Postgres text cannot hold NUL")
        value.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
    else:  # pragma: no cover - SortKey refuses other columns
        raise ValueError("not a column a cursor can carry")


def _invalid(field: str) -> ServiceError:
    return ServiceError.single(
        field, f"{field} is not a cursor of this list", ErrorCode.INVALID_CURSOR
    )


def check_cursor_values(
    keys: Sequence[SortKey], values: Sequence[Any], field: str = "after"
) -> None:
    """Every part of a decoded cursor fits its sort key's column, or INVALID_CURSOR on `field`."""
    if len(values) != len(keys):
        raise _invalid(field)
    try:
        for key, value in zip(keys, values, strict=True):
            _check_part(key, value)
    except ValueError as exc:
        raise _invalid(field) from exc


def encode_cursor(values: Sequence[Any]) -> str:
    # The format is also written in SQL by the compiled read path (app.graphql.compiled
    # .sqltext): change both or neither.
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey] | int, field: str = "after") -> list[Any]:
    """The parts of a cursor issued for `keys`, each checked against its column (type and
    range), or a user error naming `field` with INVALID_CURSOR: never a value SQL would fail
    on. With a number of parts instead of keys, only the shape is checked here, and
    seek_condition checks the parts."""
    size = keys if isinstance(keys, int) else len(keys)
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid(field)
    if not _BASE64URL.fullmatch(cursor):
        raise _invalid(field)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != size:
            raise ValueError("not a list of the key's parts")
        values = [_decode_value(v) for v in parts]
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise _invalid(field) from exc
    if not isinstance(keys, int):
        check_cursor_values(keys, values, field)
    return values


def seek_condition(
    keys: Sequence[SortKey], values: Sequence[Any], field: str = "after"
) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `keys` describes (mixed directions allowed).
    The values are checked against the keys' columns first (INVALID_CURSOR on `field`)."""
    check_cursor_values(keys, values, field)
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
    """ORDER BY for `keys`. NULLS LAST only where a key may be NULL: on a NOT NULL key it
    changes nothing but keeps Postgres from reading an index backward (a descending page,
    or a backward one), so it would sort instead."""
    return [
        (k.column.desc().nulls_last() if k.nullable else k.column.desc())
        if k.descending
        else k.column.asc()
        for k in keys
    ]


DEFAULT_PAGE_SIZE = 20


def check_first(
    first: int | None, max_page_size: int, field: str = "first", default: int = DEFAULT_PAGE_SIZE
) -> int:
    if first is None:
        return min(default, max_page_size)
    if first < 0 or first > max_page_size:
        raise ServiceError.single(
            field, f"{field} must be between 0 and {max_page_size}", ErrorCode.OUT_OF_RANGE
        )
    return first


@dataclass(frozen=True)
class PageRequest:
    """A Relay page: `size` rows after `after` (forward, `first`), or the `size` rows nearest
    `before` (backward, `last`); either bound may be given with either direction. Cursors
    are checked when the page is fetched, naming the argument they came in."""

    size: int
    after: str | None = None
    before: str | None = None
    backward: bool = False


def page_request(
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    max_page_size: int,
    default: int = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    """The page that a connection's `first`/`after`/`last`/`before` ask for (neither size:
    the first `default` rows)."""
    if first is not None and last is not None:
        raise ServiceError.single(
            "last", "Give first (forward) or last (backward), not both", ErrorCode.INVALID
        )
    if last is not None:
        size = check_first(last, max_page_size, "last")
        return PageRequest(size, after or None, before or None, backward=True)
    size = check_first(first, max_page_size, default=default)
    return PageRequest(size, after or None, before or None)


def reversed_keys(keys: Sequence[SortKey]) -> tuple[SortKey, ...]:
    """The opposite order. Exact for NOT NULL keys, which every connection's order is (the
    compiled path relies on it too); a nullable key would sort its NULLs last both ways."""
    if any(key.nullable for key in keys):
        raise TypeError("only NOT NULL sort keys can be paged backward")
    return tuple(SortKey(key.column, not key.descending) for key in keys)


def page_conditions(keys: Sequence[SortKey], page: PageRequest) -> list[ColumnElement[bool]]:
    """The keyset bounds of a page: after `after`, before `before`."""
    conditions = []
    if page.after:
        conditions.append(seek_condition(keys, decode_cursor(page.after, keys)))
    if page.before:
        values = decode_cursor(page.before, keys, "before")
        conditions.append(seek_condition(reversed_keys(keys), values, "before"))
    return conditions


def fetch_order(keys: Sequence[SortKey], page: PageRequest) -> tuple[SortKey, ...]:
    """The order rows are fetched in: the connection's, or its opposite for a backward page
    (the rows nearest `before` first; to_page turns them back)."""
    return reversed_keys(keys) if page.backward else tuple(keys)


def apply_keyset(stmt: Select[Any], keys: Sequence[SortKey], page: PageRequest) -> Select[Any]:
    """The page's rows and one look-ahead row, in fetch order."""
    stmt = stmt.where(*page_conditions(keys, page))
    return stmt.order_by(*order_by(fetch_order(keys, page))).limit(page.size + 1)


def to_page(rows: Sequence[T], keys: Sequence[SortKey], page: PageRequest) -> Page[T]:
    """Turn the size+1 rows fetched by apply_keyset into a page, in the connection's order.
    The far side is known from the look-ahead row; the near side only from the bound given
    (a page after a cursor has rows before it), as Relay allows."""
    items = list(rows[: page.size])
    more = len(rows) > page.size
    if page.backward:
        items.reverse()
    cursors = [encode_cursor([getattr(r, k.column.key) for k in keys]) for r in items]
    if page.backward:
        return Page(items, cursors, has_next_page=bool(page.before), has_previous_page=more)
    return Page(items, cursors, has_next_page=more, has_previous_page=bool(page.after))


async def pages_per_parent(
    session: AsyncSession,
    base: Select[Any],
    *,
    entity: type[Any],
    parent: Any,
    parent_ids: Sequence[Any],
    keys: Sequence[SortKey],
    page: PageRequest,
) -> dict[Any, Page[Any]]:
    """The same page of many parents' children (`base` selects `entity` rows, filtered to
    the parents and the org), in one statement: each parent's rows are numbered in the
    page's order and the first size+1 of each kept."""
    base = base.where(*page_conditions(keys, page))
    rn = (
        func.row_number()
        .over(partition_by=parent, order_by=order_by(fetch_order(keys, page)))
        .label("rn")
    )
    ranked = base.add_columns(rn).subquery()
    row = aliased(entity, ranked)
    stmt = (
        select(row)
        .where(ranked.c.rn <= page.size + 1)
        .order_by(getattr(row, parent.key), ranked.c.rn)
    )
    grouped: dict[Any, list[Any]] = {pid: [] for pid in parent_ids}
    for item in (await session.execute(stmt)).scalars():
        grouped[getattr(item, parent.key)].append(item)
    return {pid: to_page(rows, keys, page) for pid, rows in grouped.items()}
