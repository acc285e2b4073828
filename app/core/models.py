"""Mixins shared by every org-owned table."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class OrgOwned:
    """Every row belongs to an organisation; RLS policies key on this column."""

    @declared_attr
    def org_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False, index=True)
