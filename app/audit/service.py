"""Every change writes an audit row in the same transaction: who, what, when, before/after."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.principal import Principal
from app.db import Base


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


def snapshot(row: Base) -> dict[str, Any]:
    """The row's column values as JSON, for the audit log."""
    mapper = inspect(type(row))
    return {attr.key: _jsonable(getattr(row, attr.key)) for attr in mapper.column_attrs}


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
    entity_id = getattr(entity, "id", None)
    session.add(
        AuditEntry(
            org_id=actor.org_id,
            actor_sub=actor.sub,
            actor_role=actor.role.value,
            action=action,
            entity_type=type(entity).__name__,
            entity_id=entity_id if isinstance(entity_id, uuid.UUID) else None,
            before=before,
            after=after if after is not None else snapshot(entity),
        )
    )
