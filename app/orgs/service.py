from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.db import driver_fetchrow
from app.events import service as events
from app.events.service import Topic
from app.orgs.models import Org
from app.orgs.policy import (
    DEFAULT_RUNGS,
    OrgPolicy,
    StrikeRung,
    policy_errors,
    policy_from_settings,
    policy_to_settings,
)

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


def settings_sql(org: str) -> str:
    """The org's settings as JSON text, as a scalar subquery (`org` is the SQL expression of
    its id): for a statement that reads them with something else in one round trip (the
    incident journeys lock the student and read the policy together); `policy_of` reads it."""
    return f"(SELECT settings::text FROM orgs WHERE id = {org})"


_SETTINGS = f"SELECT {settings_sql('$1')}"


async def get_policy(session: AsyncSession, *, org_id: uuid.UUID) -> OrgPolicy:
    """The org's policy as its row says now (read in the caller's transaction)."""
    row = await driver_fetchrow(session, _SETTINGS, org_id)
    assert row is not None
    return policy_of(row[0])


@lru_cache(maxsize=256)
def policy_of(settings: str | None) -> OrgPolicy:
    """The policy of the settings' JSON text (`settings_sql`), parsed once per distinct text:
    the policy is immutable."""
    return policy_from_settings(json.loads(settings) if settings is not None else None)


async def update_policy(
    session: AsyncSession,
    *,
    actor: Principal,
    strikes: dict[str, Any] | None = None,
    risk: dict[str, Any] | None = None,
    house_points: dict[str, Any] | None = None,
    attendance: dict[str, Any] | None = None,
    retention: dict[str, Any] | None = None,
    timezone: str | None = None,
) -> OrgPolicy:
    """Change some of the org's policy values (snake_case keys); the rest stay as they are.

    `strikes` may hold `rungs` (a list of {consequence, admin_notified, hod_consulted}: the
    whole new ladder, which must be valid; None is refused) or `reset_rungs: True` (back to
    the default ladder), not both."""
    strikes = dict(strikes or {})
    reset_rungs = bool(strikes.pop("reset_rungs", False))
    rungs_given = "rungs" in strikes
    rungs: list[dict[str, Any]] | None = strikes.pop("rungs", None)
    if reset_rungs and rungs_given:
        raise ServiceError.single(
            "strikes.resetRungs", "give rungs or resetRungs, not both", ErrorCode.INVALID
        )
    if rungs_given and rungs is None:
        raise ServiceError.single(
            "strikes.rungs",
            "rungs cannot be null: give the whole ladder, or resetRungs: true for the default",
            ErrorCode.INVALID,
        )
    org = (
        await session.execute(select(Org).where(Org.id == actor.org_id).with_for_update())
    ).scalar_one()
    before = audit.snapshot(org)
    current = policy_from_settings(org.settings)
    merged = policy_to_settings(current)
    sections = {
        "strikes": strikes,
        "risk": risk,
        "house_points": house_points,
        "attendance": attendance,
    }
    for key, changes in sections.items():
        merged[key].update({k: v for k, v in (changes or {}).items() if v is not None})
    # Retention's limits may be cleared (null: keep for ever): every key given is taken.
    merged["retention"].update(retention or {})
    if timezone is not None:
        merged["timezone"] = timezone
    policy = policy_from_settings(merged)
    # The ladder is set here, not through the settings JSON: reading settings falls back to
    # the default ladder for a missing or empty one, and a change must never do that silently.
    if reset_rungs:
        policy = replace(policy, strikes=replace(policy.strikes, rungs=DEFAULT_RUNGS))
    elif rungs is not None:
        ladder = tuple(StrikeRung(**rung) for rung in rungs)
        policy = replace(policy, strikes=replace(policy.strikes, rungs=ladder))
    if errors := policy_errors(policy):
        raise ServiceError(errors)
    org.settings = policy_to_settings(policy)
    await audit.record(session, actor=actor, action="org.update_policy", entity=org, before=before)
    await events.record(session, org_id=actor.org_id, topic=Topic.POLICY_CHANGED)
    return policy
