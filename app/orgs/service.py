from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ErrorCode, ServiceError
from app.orgs.models import Org
from app.orgs.policy import OrgPolicy, policy_from_settings

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def get_by_slug(session: AsyncSession, *, slug: str) -> Org | None:
    result = await session.execute(select(Org).where(Org.slug == slug))
    return result.scalar_one_or_none()


async def create_org(
    session: AsyncSession, *, slug: str, name: str, settings: dict[str, Any] | None = None
) -> Org:
    """Create an organisation (owner transaction), with the default attendance codes."""
    from app.attendance.service import seed_default_codes

    if not _SLUG.match(slug):
        raise ServiceError.single(
            "slug", "slug must be lowercase letters, digits and dashes", ErrorCode.INVALID
        )
    if await get_by_slug(session, slug=slug) is not None:
        raise ServiceError.single("slug", f"organisation {slug!r} exists", ErrorCode.DUPLICATE)
    org = Org(slug=slug, name=name.strip() or slug, settings=settings or {})
    session.add(org)
    await session.flush()
    # FORCE ROW LEVEL SECURITY binds the owner too: scope the rest of this transaction.
    await session.execute(
        text("SELECT set_config('app.org_id', :org_id, true)"), {"org_id": str(org.id)}
    )
    await seed_default_codes(session, org_id=org.id)
    return org


async def get_policy(session: AsyncSession, *, org_id: uuid.UUID) -> OrgPolicy:
    settings = (await session.execute(select(Org.settings).where(Org.id == org_id))).scalar_one()
    return policy_from_settings(settings)
