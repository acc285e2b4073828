"""arq job bodies for risk: thin, calling app.risk.scheduled."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from app.db import Database
from app.risk import scheduled


async def risk_sweep(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Cron: recompute every student whose risk time alone may have changed."""
    db: Database = ctx["db"]
    return [asdict(r) for r in await scheduled.sweep(db)]


async def recompute_risk(ctx: dict[str, Any], org_slug: str) -> list[dict[str, Any]]:
    """On demand: every student of one org."""
    db: Database = ctx["db"]
    return [asdict(r) for r in await scheduled.sweep(db, org_slug=org_slug, everyone=True)]
