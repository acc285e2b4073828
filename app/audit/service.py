"""Every change writes an audit row in the same transaction: who, what, when, before/after."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Label, RowMapping, insert, inspect, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.principal import Principal
from app.core.pagination import Page, PageRequest, SortKey, apply_keyset, to_page
from app.db import Base, driver_execute


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


@lru_cache(maxsize=64)
def _column_keys(model: type[Base]) -> tuple[str, ...]:
    return tuple(attr.key for attr in inspect(model).column_attrs)


def snapshot(row: Base) -> dict[str, Any]:
    """The row's column values as JSON, for the audit log."""
    return {key: _jsonable(getattr(row, key)) for key in _column_keys(type(row))}


async def record_many(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    changes: Sequence[tuple[Base, dict[str, Any] | None]],
) -> None:
    """Audit many changed rows in one INSERT (after one flush, so new rows have their
    server defaults): an import's batch of a thousand writes one statement, not a
    thousand ORM objects."""
    if not changes:
        return
    await session.flush()
    await session.execute(
        insert(AuditEntry),
        [_entry(actor, action, entity, before, None) for entity, before in changes],
    )


async def record(
    session: AsyncSession,
    *,
    actor: Principal,
    action: str,
    entity: Base,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
) -> None:
    if inspect(entity).pending:
        await session.flush()  # server and column defaults (id, timestamps) are set by the insert
    entry = _entry(actor, action, entity, before, after)
    await driver_execute(
        session,
        _INSERT,
        *(json.dumps(entry[k]) if k in _JSON else entry[k] for k in _INSERT_KEYS),
    )


# Written at once through the driver (one short statement, none of the ORM's flush work):
# every mutation audits, the incident journey on every tap.
_INSERT_KEYS = (
    "org_id",
    "actor_sub",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
)
_JSON = frozenset({"before", "after"})
_INSERT = (
    "INSERT INTO audit_log (org_id, actor_sub, actor_role, action, entity_type, entity_id,"
    " before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


def _entry(
    actor: Principal,
    action: str,
    entity: Base,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    entity_id = getattr(entity, "id", None)
    return {
        "org_id": actor.org_id,
        "actor_sub": actor.sub,
        "actor_role": actor.role.value,
        "action": action,
        "entity_type": type(entity).__name__,
        "entity_id": entity_id if isinstance(entity_id, uuid.UUID) else None,
        "before": before,
        "after": after if after is not None else snapshot(entity),
    }


@dataclass
class AuditFilter:
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    actor_sub: str | None = None
    action: str | None = None


NEWEST_FIRST = (SortKey(AuditEntry.id, descending=True),)


async def list_page(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    flt: AuditFilter | None,
    page: PageRequest,
) -> Page[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if flt is not None:
        if flt.entity_type:
            stmt = stmt.where(AuditEntry.entity_type == flt.entity_type)
        if flt.entity_id:
            stmt = stmt.where(AuditEntry.entity_id == flt.entity_id)
        if flt.actor_sub:
            stmt = stmt.where(AuditEntry.actor_sub == flt.actor_sub)
        if flt.action:
            stmt = stmt.where(AuditEntry.action == flt.action)
    rows = (await session.execute(apply_keyset(stmt, NEWEST_FIRST, page))).scalars().all()
    return to_page(rows, NEWEST_FIRST, page)


def old_columns(model: type[Base]) -> list[Label[Any]]:
    """Each column of `model` as it was before the statement, for `RETURNING` (PostgreSQL
    18's `old.*`), labelled old_<attribute>: all NULL when the statement inserted, so an
    upsert tells a create from an update and audits the exact row it replaced."""
    return [
        literal_column(f'old."{attr.columns[0].name}"', attr.columns[0].type).label(
            f"old_{attr.key}"
        )
        for attr in inspect(model).column_attrs
    ]


def before_upsert(model: type[Base], row: RowMapping) -> dict[str, Any] | None:
    """The audit 'before' of an upserted row from its old_columns: None when it was created."""
    if row["old_id"] is None:
        return None
    keys = [attr.key for attr in inspect(model).column_attrs]
    return snapshot(model(**{key: row[f"old_{key}"] for key in keys}))
