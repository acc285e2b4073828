"""Migration 0005 backfills the per-category period counts of days recorded before it, by the
same rule as classify_day (and under FORCE ROW LEVEL SECURITY, which binds the owner too)."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
from alembic import command

from app import migrate


async def test_backfill_counts_every_category_a_day_carries(scratch_database_url: str) -> None:
    config = migrate.alembic_config(scratch_database_url)
    await asyncio.to_thread(command.upgrade, config, "0004")
    conn = await asyncpg.connect(scratch_database_url.replace("+asyncpg", ""))
    try:
        org, student = uuid.uuid4(), uuid.uuid4()
        await conn.execute(
            "INSERT INTO orgs (id, slug, name, settings) VALUES ($1, 'm5', 'M5', '{}')", org
        )
        await conn.execute(
            "INSERT INTO students (id, org_id, external_id, name, support_level, risk_tier, "
            "risk_score, risk_factors, house_points) VALUES ($1, $2, 'S1', 'S', 0, 1, 0, '[]', 0)",
            student,
            org,
        )
        for code, category in (("A", "UNEXCUSED"), ("T", "TARDY"), ("E", "EXCUSED")):
            await conn.execute(
                "INSERT INTO attendance_codes (id, org_id, code, category) VALUES ($1, $2, $3, $4)",
                uuid.uuid4(),
                org,
                code,
                category,
            )
        days = {
            "2026-11-02": (None, {"1": "A", "2": "T"}, "PARTIAL"),
            "2026-11-03": ("E", {"3": "T"}, "ABSENT_EXCUSED"),
            "2026-11-04": ("T", {}, "TARDY"),
            "2026-11-05": (None, {}, "PRESENT"),
        }
        for day, (all_day, periods, status) in days.items():
            await conn.execute(
                "INSERT INTO attendance_days (id, org_id, student_id, day, all_day_code, "
                "period_codes, scheduled_periods, present_periods, daily_status, percentage, "
                "source) VALUES ($1, $2, $3, $4::text::date, $5, $6::jsonb, 6, 0, $7, 0, 'old')",
                uuid.uuid4(),
                org,
                student,
                day,
                all_day,
                json.dumps(periods),
                status,
            )

        await asyncio.to_thread(command.upgrade, config, "0005")
        rows = await conn.fetch(
            "SELECT day::text, excused_periods, unexcused_periods, tardy_periods, "
            "suspension_periods, truancy_periods FROM attendance_days ORDER BY day"
        )
        assert [tuple(r) for r in rows] == [
            ("2026-11-02", 0, 1, 1, 0, 0),  # an A and a T period: unexcused and tardy
            ("2026-11-03", 6, 0, 0, 0, 0),  # an all-day absence overrides its periods
            ("2026-11-04", 0, 0, 1, 0, 0),  # an all-day tardy is one late arrival
            ("2026-11-05", 0, 0, 0, 0, 0),
        ]
        forced = await conn.fetch(
            "SELECT relname FROM pg_class WHERE relforcerowsecurity "
            "AND relname IN ('attendance_days', 'attendance_codes') ORDER BY relname"
        )
        assert [r["relname"] for r in forced] == ["attendance_codes", "attendance_days"]
    finally:
        await conn.close()
