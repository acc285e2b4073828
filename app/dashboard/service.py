"""The dashboard's figures for a scope (the whole school, a year group, a class or one
student): today's incidents and house points, today's and this week's attendance rate,
students by risk tier and open interventions. "Today" and "this week" (from Monday) are the
organisation's, in its time zone (orgPolicy.timeZone).

The figures are those the queries give: incidents as `incidents` lists them (void ones
excluded), attendance rates as `attendanceSummary` computes them (present periods over
scheduled periods), tiers as `Student.riskTier`, open interventions as those PLANNED or
ACTIVE. One statement, in one read-only transaction; the live `dashboard` subscription
computes it once per change window for all its subscribers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text

from app.db import Database
from app.events import service as events
from app.events.service import EventScope, encode_since
from app.orgs import service as orgs
from app.orgs.policy import local_midnight, local_today


@dataclass(frozen=True)
class Snapshot:
    event_id: str | None  # the latest event of the scope it reflects (None: no event yet)
    positive: int
    negative: int
    neutral: int
    house_points: int
    attendance_rate_today: float | None
    attendance_rate_week: float | None
    students_by_tier: dict[int, int]
    open_interventions: int


_FIGURES = text(
    """
WITH s AS (
    SELECT id, risk_tier FROM students
    WHERE org_id = :org_id
      AND (CAST(:year_group AS smallint) IS NULL OR year_group = :year_group)
      AND (CAST(:class_code AS text) IS NULL OR class_code = :class_code)
      AND (CAST(:student_id AS uuid) IS NULL OR id = :student_id)
), today AS (
    SELECT i.kind::text AS kind, i.points FROM incidents AS i JOIN s ON s.id = i.student_id
    WHERE i.org_id = :org_id AND i.voided_at IS NULL
      AND i.occurred_at >= :day_start AND i.occurred_at < :day_end
), days AS (
    SELECT a.day, a.present_periods, a.scheduled_periods
    FROM attendance_days AS a JOIN s ON s.id = a.student_id
    WHERE a.org_id = :org_id AND a.day >= :week_start AND a.day <= :today
)
SELECT
    (SELECT count(*) FROM today WHERE kind = 'POSITIVE'),
    (SELECT count(*) FROM today WHERE kind = 'NEGATIVE'),
    (SELECT count(*) FROM today WHERE kind = 'NEUTRAL'),
    (SELECT coalesce(sum(points), 0) FROM today),
    (SELECT sum(present_periods)::float / nullif(sum(scheduled_periods), 0)
       FROM days WHERE day = :today),
    (SELECT sum(present_periods)::float / nullif(sum(scheduled_periods), 0) FROM days),
    (SELECT coalesce(jsonb_object_agg(risk_tier, n), '{}') FROM
        (SELECT risk_tier, count(*) AS n FROM s GROUP BY risk_tier) AS t),
    (SELECT count(*) FROM interventions AS v JOIN s ON s.id = v.student_id
       WHERE v.org_id = :org_id AND v.status IN ('PLANNED', 'ACTIVE')),
    (SELECT ARRAY[e.txid, e.id] FROM events AS e
       WHERE e.org_id = :org_id
         AND (e.txid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint)
         AND {scope}
       ORDER BY e.txid DESC, e.id DESC LIMIT 1)
""".replace(
        "{scope}",
        events.scope_sql(
            "CAST(:year_group AS smallint)",
            "CAST(:class_code AS text)",
            "CAST(:student_id AS uuid)",
            "CAST(NULL AS uuid)",
        ),
    )
)

TIERS = (1, 2, 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


async def snapshot(
    db: Database,
    *,
    org_id: uuid.UUID,
    scope: EventScope,
    now: datetime,
    event_id: str | None = None,
) -> Snapshot:
    """The scope's figures at `now`, with the latest event of the scope they reflect (or
    `event_id`, the one the caller last saw, while the log's horizon has not passed it)."""
    async with db.transaction(org_id) as session:
        policy = await orgs.get_policy(session, org_id=org_id)
        today = local_today(policy, now)
        day_start = local_midnight(policy, now)
        day_end = local_midnight(policy, day_start + timedelta(hours=26))
        row = (
            await session.execute(
                _FIGURES,
                {
                    "org_id": org_id,
                    "year_group": scope.year_group,
                    "class_code": scope.class_code,
                    "student_id": scope.student_id,
                    "day_start": day_start,
                    "day_end": day_end,
                    "today": today,
                    "week_start": today - timedelta(days=today.weekday()),
                },
            )
        ).one()
    positive, negative, neutral, points, rate_today, rate_week, tiers, open_n, latest = row
    by_tier = dict.fromkeys(TIERS, 0) | {int(k): int(v) for k, v in tiers.items()}
    if latest is not None:
        event_id = encode_since(int(latest[0]), int(latest[1]))
    return Snapshot(
        event_id=event_id,
        positive=int(positive),
        negative=int(negative),
        neutral=int(neutral),
        house_points=int(points),
        attendance_rate_today=_rate(rate_today),
        attendance_rate_week=_rate(rate_week),
        students_by_tier=by_tier,
        open_interventions=int(open_n),
    )


@dataclass(frozen=True)
class DayTrend:
    day: date
    attendance_rate: float | None  # present periods / scheduled periods (None: none recorded)
    negative: int
    positive: int


_TREND = text(
    """
WITH s AS (
    SELECT id FROM students
    WHERE org_id = :org_id
      AND (CAST(:year_group AS smallint) IS NULL OR year_group = :year_group)
      AND (CAST(:class_code AS text) IS NULL OR class_code = :class_code)
      AND (CAST(:student_id AS uuid) IS NULL OR id = :student_id)
), days AS (
    SELECT generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day')::date
        AS day
), rates AS (
    SELECT a.day, sum(a.present_periods)::float / nullif(sum(a.scheduled_periods), 0) AS rate
    FROM attendance_days AS a JOIN s ON s.id = a.student_id
    WHERE a.org_id = :org_id AND a.day BETWEEN :first AND :last
    GROUP BY a.day
), counts AS (
    SELECT (i.occurred_at AT TIME ZONE :zone)::date AS day,
           count(*) FILTER (WHERE i.kind = 'NEGATIVE') AS negative,
           count(*) FILTER (WHERE i.kind = 'POSITIVE') AS positive
    FROM incidents AS i JOIN s ON s.id = i.student_id
    WHERE i.org_id = :org_id AND i.voided_at IS NULL
      AND i.occurred_at >= :since AND i.occurred_at < :until
    GROUP BY 1
)
SELECT d.day, r.rate, coalesce(c.negative, 0), coalesce(c.positive, 0)
FROM days AS d LEFT JOIN rates AS r ON r.day = d.day LEFT JOIN counts AS c ON c.day = d.day
ORDER BY d.day
"""
)


async def trend(
    db: Database, *, org_id: uuid.UUID, scope: EventScope, now: datetime, days: int
) -> list[DayTrend]:
    """Per day of the org's last `days` (today included): the attendance rate as
    `attendanceSummary` computes it, and incidents by kind (void ones excluded)."""
    async with db.transaction(org_id) as session:
        policy = await orgs.get_policy(session, org_id=org_id)
        today = local_today(policy, now)
        first = today - timedelta(days=days - 1)
        rows = await session.execute(
            _TREND,
            {
                "org_id": org_id,
                "year_group": scope.year_group,
                "class_code": scope.class_code,
                "student_id": scope.student_id,
                "first": first,
                "last": today,
                "zone": policy.timezone,
                "since": local_midnight(policy, now) - timedelta(days=days - 1, hours=2),
                "until": local_midnight(policy, now) + timedelta(hours=26),
            },
        )
        return [DayTrend(day, _rate(rate), int(neg), int(pos)) for day, rate, neg, pos in rows]
