from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import OrgOwned
from app.db import Base, Timestamps, UUIDPrimaryKey


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    TEACHER = "TEACHER"
    AIDE = "AIDE"
    INTEGRATION = "INTEGRATION"


class Org(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "orgs"

    slug: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Per-org overrides of the strike policy and risk thresholds (see app.orgs.policy).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)


class User(UUIDPrimaryKey, OrgOwned, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "sub"),)

    sub: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(Enum(Role, name="role"), nullable=False)
