"""Risk v1: an early-warning system on the ABC indicators (attendance, behaviour, course).

`evaluate` is the rule (pure); `recompute` gathers the inputs for many students in a few
statements, refreshes each student's current risk, and writes a history row only when the
tier or the contributing factors change.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.assessments import service as assessments
from app.attendance import service as attendance
from app.auth.principal import Principal
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


# Per student, in one statement: the negatives in the behaviour window and their highest
# strike (a void incident counts for nothing), and the active IEP goal longest off track
# (iep_goals.off_track_streak, kept by app.iep.service).
_BEHAVIOUR_AND_IEP = text(
    "SELECT u.id, b.n, b.strike, g.streak"
    " FROM unnest(CAST(:ids AS uuid[])) AS u(id)"
    " CROSS JOIN LATERAL (SELECT count(*) AS n, max(i.strike_level) AS strike"
    "  FROM incidents AS i WHERE i.org_id = :org_id AND i.student_id = u.id"
    "  AND i.kind = 'NEGATIVE' AND i.voided_at IS NULL"
    "  AND i.occurred_at > :since AND i.occurred_at <= :now) AS b"
    " CROSS JOIN LATERAL (SELECT max(g.off_track_streak) AS streak FROM iep_goals AS g"
    "  WHERE g.org_id = :org_id AND g.student_id = u.id AND g.status = 'ACTIVE') AS g"
)


async def gather_inputs(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: list[uuid.UUID],
    t: RiskThresholds,
    now: datetime,
) -> dict[uuid.UUID, RiskInputs]:
    since = now - timedelta(days=t.behaviour_window_days)
    behaviour = {
        sid: (int(n), int(strike or 0), int(streak or 0))
        for sid, n, strike, streak in await session.execute(
            _BEHAVIOUR_AND_IEP,
            {"org_id": org_id, "ids": list(student_ids), "since": since, "now": now},
        )
    }
    absence = await attendance.summaries(
        session, org_id=org_id, student_ids=student_ids, last_n_days=t.attendance_window_days
    )
    diagnostics = await assessments.latest_diagnostics(
        session, org_id=org_id, student_ids=student_ids
    )
    out = {}
    for sid in student_ids:
        levels = [d.grade_levels_relative for d in diagnostics[sid]]
        known = [-lv for lv in levels if lv is not None]
        negatives, strike, streak = behaviour.get(sid, (0, 0, 0))
        out[sid] = RiskInputs(
            negatives_in_window=negatives,
            max_strike_in_window=strike,
            absence_pct=absence[sid].absence_pct,
            attendance_days=absence[sid].days_enrolled,
            grade_levels_below=max(known) if known else None,
            iep_off_track=streak,
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
) -> list[RiskChange]:
    """Recompute and store the risk of `student_ids`. Callers that already hold the policy
    or the (locked) student rows pass them in as `policy` and `loaded`."""
    ids = sorted(set(student_ids))
    if not ids:
        return []
    now = now or datetime.now(UTC)
    policy = policy or await orgs.get_policy(session, org_id=actor.org_id)
    inputs = await gather_inputs(
        session, org_id=actor.org_id, student_ids=ids, t=policy.risk, now=now
    )
    # Previous state, to decide whether this is a change worth a history row.
    held = {s.id: s for s in loaded if s.id in inputs}
    previous = {s.id: (s.risk_tier, s.risk_factors, s.risk_computed_at) for s in held.values()}
    missing = [sid for sid in ids if sid not in held]
    if missing:
        rows = await session.execute(
            select(
                Student.id, Student.risk_tier, Student.risk_factors, Student.risk_computed_at
            ).where(Student.org_id == actor.org_id, Student.id.in_(missing))
        )
        previous.update({sid: (tier, factors, at) for sid, tier, factors, at in rows})
    changes = []
    bulk: list[dict[str, Any]] = []
    for sid, (previous_tier, previous_factors, computed_at) in previous.items():
        result = evaluate(inputs[sid], policy.risk)
        changed = (
            computed_at is None
            or previous_tier != result.tier
            or [f for f in previous_factors if f.get("triggered")] != result.contributing
        )
        values = {
            "risk_tier": result.tier,
            "risk_score": Decimal(result.score),
            "risk_factors": [f.as_json() for f in result.factors],
            "risk_computed_at": now,
        }
        if sid in held:  # a row the caller holds (and may change further): one UPDATE at flush
            for name, value in values.items():
                setattr(held[sid], name, value)
        else:
            bulk.append({"id": sid, **values})
        if changed:
            session.add(
                RiskAssessment(
                    org_id=actor.org_id,
                    student_id=sid,
                    tier=result.tier,
                    score=Decimal(result.score),
                    factors=values["risk_factors"],
                    trigger=trigger,
                    computed_at=now,
                )
            )
        changes.append(RiskChange(sid, previous_tier, result, changed))
    if bulk:
        await _store_risks(session, actor.org_id, bulk)
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


# The rows are locked in id order first (two batches sharing students lock them in the same
# order and cannot deadlock), then updated by one statement from arrays: a batch of a
# thousand students is two round trips, not a thousand UPDATEs.
_LOCK_IN_ORDER = text(
    "SELECT id FROM students WHERE org_id = :org_id AND id = ANY(:ids) ORDER BY id FOR UPDATE"
)
_STORE_RISKS = text(
    "UPDATE students AS s SET risk_tier = u.tier, risk_score = u.score,"
    " risk_factors = CAST(u.factors AS jsonb), risk_computed_at = u.at, updated_at = now()"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:tiers AS smallint[]),"
    " CAST(:scores AS numeric[]), CAST(:factors AS text[]),"
    " CAST(:ats AS timestamptz[])) AS u(id, tier, score, factors, at)"
    " WHERE s.id = u.id AND s.org_id = :org_id"
)


async def _store_risks(
    session: AsyncSession, org_id: uuid.UUID, bulk: list[dict[str, Any]]
) -> None:
    ids = sorted(values["id"] for values in bulk)
    by_id = {values["id"]: values for values in bulk}
    rows = [by_id[i] for i in ids]
    await session.execute(_LOCK_IN_ORDER, {"org_id": org_id, "ids": ids})
    await session.execute(
        _STORE_RISKS,
        {
            "org_id": org_id,
            "ids": ids,
            "tiers": [r["risk_tier"] for r in rows],
            "scores": [r["risk_score"] for r in rows],
            "factors": [json.dumps(r["risk_factors"]) for r in rows],
            "ats": [r["risk_computed_at"] for r in rows],
        },
    )


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
