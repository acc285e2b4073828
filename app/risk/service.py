"""Risk v1: an early-warning system on the ABC indicators (attendance, behaviour, course).

`evaluate` is the rule (pure); `recompute` gathers the inputs for many students in a few
statements, refreshes each student's current risk, and writes a history row only when the
tier or the contributing factors change.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from app.assessments import service as assessments
from app.attendance import service as attendance
from app.auth.principal import Principal
from app.db import DriverSql, driver_execute, driver_fetch
from app.events import service as events
from app.events.service import Topic
from app.orgs import service as orgs
from app.orgs.policy import OrgPolicy, RiskThresholds
from app.risk.models import RiskAssessment
from app.students.models import Student


class Indicator(enum.StrEnum):
    BEHAVIOUR_INCIDENTS = "BEHAVIOUR_INCIDENTS"
    BEHAVIOUR_STRIKES = "BEHAVIOUR_STRIKES"
    ATTENDANCE = "ATTENDANCE"
    COURSE_PERFORMANCE = "COURSE_PERFORMANCE"
    IEP_PROGRESS = "IEP_PROGRESS"


@dataclass(frozen=True)
class Factor:
    indicator: Indicator
    value: float | None
    threshold: float
    triggered: bool
    weight: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (which deep-copies): a batch builds thousands.
        return {
            "indicator": self.indicator.value,
            "value": self.value,
            "threshold": self.threshold,
            "triggered": self.triggered,
            "weight": self.weight,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RiskInputs:
    negatives_in_window: int
    max_strike_in_window: int
    absence_pct: float | None
    attendance_days: int
    grade_levels_below: int | None  # worst latest diagnostic, as a positive number
    # Probes in a row that found the student's active IEP goal longest off track.
    iep_off_track: int = 0


@dataclass(frozen=True)
class RiskResult:
    tier: int
    score: int
    factors: list[Factor]

    @property
    def contributing(self) -> list[dict[str, Any]]:
        return [f.as_json() for f in self.factors if f.triggered]


def evaluate(inputs: RiskInputs, t: RiskThresholds) -> RiskResult:
    """Tier 1 (universal) with no indicator triggered, 2 (targeted) with one point, 3 (intensive)
    with two or more; severe chronic absence (20%+) counts two points on its own. Attendance
    follows the chronic-absence band (attendance.chronic_band): with fewer than
    t.min_enrolled_days recorded days it is INSUFFICIENT_DATA and does not trigger."""
    factors = [
        Factor(
            Indicator.BEHAVIOUR_INCIDENTS,
            inputs.negatives_in_window,
            t.behaviour_negatives,
            triggered=inputs.negatives_in_window >= t.behaviour_negatives,
            weight=1,
            detail=f"{inputs.negatives_in_window} negative incidents in "
            f"{t.behaviour_window_days} days",
        ),
        Factor(
            Indicator.BEHAVIOUR_STRIKES,
            inputs.max_strike_in_window,
            t.strike_level,
            triggered=inputs.max_strike_in_window >= t.strike_level,
            weight=1,
            detail=f"highest strike {inputs.max_strike_in_window} in "
            f"{t.behaviour_window_days} days",
        ),
    ]
    absence, days = inputs.absence_pct, inputs.attendance_days
    band = attendance.chronic_band(absence, days, t)
    severe = band is attendance.ChronicBand.SEVERE
    chronic = severe or band is attendance.ChronicBand.MODERATE
    if band is None or absence is None:
        attendance_detail = "no attendance recorded"
    elif band is attendance.ChronicBand.INSUFFICIENT_DATA:
        attendance_detail = (
            f"too few school days to judge: missed {absence:g}% of {days} recorded, "
            f"{t.min_enrolled_days} needed"
        )
    else:
        attendance_detail = (
            f"{'severe chronic' if severe else 'chronic' if chronic else 'no chronic'} "
            f"absence: missed {absence:g}% of the last {days} school days"
        )
    factors.append(
        Factor(
            Indicator.ATTENDANCE,
            absence,
            t.severe_absence_pct if severe else t.chronic_absence_pct,
            triggered=chronic,
            weight=2 if severe else 1,
            detail=attendance_detail,
        )
    )
    below = inputs.grade_levels_below
    factors.append(
        Factor(
            Indicator.COURSE_PERFORMANCE,
            below,
            t.grade_levels_below,
            triggered=below is not None and below >= t.grade_levels_below,
            weight=1,
            detail=(
                "no diagnostic"
                if below is None
                else f"latest diagnostic placement {below} grade level(s) below"
                if below > 0
                else "latest diagnostic placement on or above grade level"
            ),
        )
    )
    streak = inputs.iep_off_track
    factors.append(
        Factor(
            Indicator.IEP_PROGRESS,
            streak,
            t.iep_off_track_probes,
            triggered=streak >= t.iep_off_track_probes,
            weight=1,
            # Never the goal's text: a factor's detail travels in events and webhooks.
            detail=(
                f"an active IEP goal off track for {streak} probe(s) in a row"
                if streak
                else "no active IEP goal off track"
            ),
        )
    )
    score = sum(f.weight for f in factors if f.triggered)
    tier = 1 if score == 0 else 2 if score == 1 else 3
    return RiskResult(tier=tier, score=score, factors=factors)


# Every input of every student, in one statement: the negatives in the behaviour window and
# their highest strike (a void incident counts for nothing), the active IEP goal longest off
# track (iep_goals.off_track_streak, kept by app.iep.service), the latest diagnostic per
# subject and the recent attendance (each by its domain's own SQL).
INPUTS = DriverSql.of(
    "SELECT u.id, b.n, b.strike, g.streak, d.levels, a.*"
    " FROM unnest(CAST(:ids AS uuid[])) AS u(id)"
    " CROSS JOIN LATERAL (SELECT count(*) AS n, max(i.strike_level) AS strike"
    "  FROM incidents AS i WHERE i.org_id = :org_id AND i.student_id = u.id"
    "  AND i.kind = 'NEGATIVE' AND i.voided_at IS NULL"
    "  AND i.occurred_at > :since AND i.occurred_at <= :now) AS b"
    " CROSS JOIN LATERAL (SELECT max(g.off_track_streak) AS streak FROM iep_goals AS g"
    "  WHERE g.org_id = :org_id AND g.student_id = u.id AND g.status = 'ACTIVE') AS g"
    " CROSS JOIN LATERAL (SELECT array_agg(l.grade_levels_relative) AS levels"
    f"  FROM ({assessments.latest_diagnostics_sql('u.id')}) AS l) AS d"
    f" CROSS JOIN LATERAL ({attendance.recent_summary_sql('u.id')}) AS a"
)


async def gather_inputs(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: list[uuid.UUID],
    t: RiskThresholds,
    now: datetime,
) -> dict[uuid.UUID, RiskInputs]:
    params = {
        "org_id": org_id,
        "ids": list(student_ids),
        "since": now - timedelta(days=t.behaviour_window_days),
        "now": now,
        "n": t.attendance_window_days,
        "end": None,
    }
    out = {}
    for row in await driver_fetch(session, INPUTS.sql, *INPUTS.args(params)):
        sid, negatives, strike, streak, levels = row[:5]
        absence = attendance.summary_of(row[5:])
        known = [-lv for lv in levels or () if lv is not None]
        out[sid] = RiskInputs(
            negatives_in_window=int(negatives),
            max_strike_in_window=int(strike or 0),
            absence_pct=absence.absence_pct,
            attendance_days=absence.days_enrolled,
            grade_levels_below=max(known) if known else None,
            iep_off_track=int(streak or 0),
        )
    return out


@dataclass(frozen=True)
class RiskChange:
    student_id: uuid.UUID
    previous_tier: int
    result: RiskResult
    history_written: bool

    @property
    def tier_rose(self) -> bool:
        return self.result.tier > self.previous_tier


async def recompute(
    session: AsyncSession,
    *,
    actor: Principal,
    student_ids: Iterable[uuid.UUID],
    trigger: str,
    now: datetime | None = None,
    policy: OrgPolicy | None = None,
    loaded: Sequence[Student] = (),
    points: Mapping[uuid.UUID, int] | None = None,
) -> list[RiskChange]:
    """Recompute and store the risk of `student_ids`. Callers that already hold the policy
    pass it in; callers that hold student rows, locked or created in this transaction, pass
    them as `loaded` (their previous risk is read from them, they are not locked again, and
    they are kept up to date). `points` adds house points to students in the same UPDATE
    (the incident journeys: points and risk reach the row in one statement)."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    now = now or datetime.now(UTC)
    policy = policy or await orgs.get_policy(session, org_id=actor.org_id)
    inputs = await gather_inputs(
        session, org_id=actor.org_id, student_ids=ids, t=policy.risk, now=now
    )
    held = {s.id: s for s in loaded if s.id in inputs}
    previous = {s.id: (s.risk_tier, s.risk_factors, s.risk_computed_at) for s in held.values()}
    missing = [sid for sid in ids if sid not in held]
    if missing:
        # Locked in id order (two batches sharing students cannot deadlock), and their
        # previous risk read under the lock, in the same statement.
        for sid, tier, factors, at in await driver_fetch(
            session, _LOCK_PREVIOUS, actor.org_id, missing
        ):
            previous[sid] = (tier, factors, at)
    changes = []
    stored: list[tuple[uuid.UUID, RiskResult, list[dict[str, Any]]]] = []
    history: list[tuple[uuid.UUID, RiskResult, str]] = []
    for sid in ids:
        if sid not in previous:
            continue  # not in this org (or gone)
        previous_tier, previous_factors, computed_at = previous[sid]
        result = evaluate(inputs[sid], policy.risk)
        changed = (
            computed_at is None
            or previous_tier != result.tier
            or [f for f in previous_factors if f.get("triggered")] != result.contributing
        )
        factors = [f.as_json() for f in result.factors]
        stored.append((sid, result, factors))
        if changed:
            history.append((sid, result, json.dumps(factors)))
        changes.append(RiskChange(sid, previous_tier, result, changed))
    await _store(session, actor.org_id, stored, points or {}, now, held)
    if history:
        await driver_execute(
            session,
            _INSERT_HISTORY,
            actor.org_id,
            [sid for sid, _, _ in history],
            [r.tier for _, r, _ in history],
            [Decimal(r.score) for _, r, _ in history],
            [f for _, _, f in history],
            trigger,
            now,
        )
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.RISK_CHANGED,
        students={
            c.student_id: {
                "previousTier": c.previous_tier,
                "tier": c.result.tier,
                "factors": c.result.contributing,
            }
            for c in changes
            if c.result.tier != c.previous_tier
        },
    )
    return changes


_LOCK_PREVIOUS = (
    "SELECT id, risk_tier, risk_factors, risk_computed_at FROM students"
    " WHERE org_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE"
)
# Every student's risk (and house points) in one statement from arrays: a batch of a
# thousand students is one round trip, not a thousand UPDATEs.
_STORE_RISKS = (
    "UPDATE students AS s SET risk_tier = u.tier, risk_score = u.score,"
    " risk_factors = CAST(u.factors AS jsonb), risk_computed_at = $2,"
    " house_points = s.house_points + u.points, updated_at = now()"
    " FROM unnest($3::uuid[], $4::smallint[], $5::numeric[], $6::text[], $7::int[])"
    " AS u(id, tier, score, factors, points)"
    " WHERE s.id = u.id AND s.org_id = $1"
    " RETURNING s.id, s.house_points, s.updated_at"
)
_INSERT_HISTORY = (
    "INSERT INTO risk_assessments (id, org_id, student_id, tier, score, factors, trigger,"
    " computed_at) SELECT gen_random_uuid(), $1, u.id, u.tier, u.score, CAST(u.factors AS jsonb),"
    " $6, $7 FROM unnest($2::uuid[], $3::smallint[], $4::numeric[], $5::text[])"
    " AS u(id, tier, score, factors)"
)


async def _store(
    session: AsyncSession,
    org_id: uuid.UUID,
    stored: list[tuple[uuid.UUID, RiskResult, list[dict[str, Any]]]],
    points: Mapping[uuid.UUID, int],
    now: datetime,
    held: Mapping[uuid.UUID, Student],
) -> None:
    """The new risks (and points) written; the rows the caller holds kept up to date as
    committed values (nothing more for the ORM to flush)."""
    if not stored:
        return
    rows = await driver_fetch(
        session,
        _STORE_RISKS,
        org_id,
        now,
        [sid for sid, _, _ in stored],
        [r.tier for _, r, _ in stored],
        [Decimal(r.score) for _, r, _ in stored],
        [json.dumps(f) for _, _, f in stored],
        [points.get(sid, 0) for sid, _, _ in stored],
    )
    if not held:
        return
    results = {sid: (r, f) for sid, r, f in stored}
    for sid, house_points, updated_at in rows:
        student = held.get(sid)
        if student is None:
            continue
        result, factors = results[sid]
        for name, value in (
            ("risk_tier", result.tier),
            ("risk_score", Decimal(result.score)),
            ("risk_factors", factors),
            ("risk_computed_at", now),
            ("house_points", house_points),
            ("updated_at", updated_at),
        ):
            set_committed_value(student, name, value)


async def history(
    session: AsyncSession, *, org_id: uuid.UUID, student_ids: Iterable[uuid.UUID], limit: int
) -> dict[uuid.UUID, list[RiskAssessment]]:
    ids = list(student_ids)
    ranked = (
        select(
            RiskAssessment,
            func.row_number()
            .over(
                partition_by=RiskAssessment.student_id,
                order_by=(RiskAssessment.computed_at.desc(), RiskAssessment.id),
            )
            .label("rn"),
        )
        .where(RiskAssessment.org_id == org_id, RiskAssessment.student_id.in_(ids))
        .subquery()
    )
    entity = aliased(RiskAssessment, ranked)
    stmt = (
        select(entity)
        .where(ranked.c.rn <= limit)
        .order_by(entity.student_id, entity.computed_at.desc())
    )
    out: dict[uuid.UUID, list[RiskAssessment]] = {sid: [] for sid in ids}
    for row in (await session.execute(stmt)).scalars():
        out[row.student_id].append(row)
    return out
