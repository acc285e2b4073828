"""Voiding and correcting incidents: the rules, and the strikes they recompute.

A void incident stays in the record and counts for nothing. A correction changes category,
note, kind or time; the points and strikes that follow from kind and time follow it.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.incidents.models import Incident, IncidentKind
from app.incidents.service import Correction, default_points
from app.orgs.policy import OrgPolicy, StrikePolicy


@dataclass(frozen=True)
class StrikeChange:
    incident: Incident
    previous: int | None
    strike: int | None


async def student_of(
    session: AsyncSession, *, org_id: uuid.UUID, incident_id: uuid.UUID
) -> uuid.UUID:
    student_id = await session.scalar(
        select(Incident.student_id).where(Incident.org_id == org_id, Incident.id == incident_id)
    )
    if student_id is None:
        raise ServiceError.single("id", "no such incident", ErrorCode.NOT_FOUND)
    return student_id


async def lock_for_change(
    session: AsyncSession, *, org_id: uuid.UUID, incident_id: uuid.UUID, if_void: str
) -> Incident:
    """The incident, row-locked, for voiding or correcting: a void one is a conflict (the
    message `if_void`). Lock its student first, as logging does, so that strike recomputes
    and concurrent logging of that student happen one after the other."""
    incident = (
        await session.execute(
            select(Incident)
            .where(Incident.org_id == org_id, Incident.id == incident_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if incident is None:
        raise ServiceError.single("id", "no such incident", ErrorCode.NOT_FOUND)
    if incident.voided_at is not None:
        raise ServiceError.single("id", if_void, ErrorCode.CONFLICT)
    return incident


def mark_void(incident: Incident, *, actor: Principal, reason: str, now: datetime) -> None:
    incident.voided_at = now
    incident.voided_by = actor.sub
    incident.void_reason = reason


def apply_correction(incident: Incident, correction: Correction, policy: OrgPolicy) -> int:
    """Change the fields; returns the change in house points for the student.

    Points follow a kind change only when they were the old kind's default (the org's
    current policy): points a teacher chose are the school's decision and stay."""
    c = correction
    if c.category is not None:
        incident.category = c.category
    if c.note is not None:
        incident.note = c.note or None
    if c.occurred_at is not None:
        incident.occurred_at = c.occurred_at
    delta = 0
    if c.kind is not None and c.kind is not incident.kind:
        if incident.points == default_points(incident.kind, policy):
            points = default_points(c.kind, policy)
            delta = points - incident.points
            incident.points = points
        incident.kind = c.kind
    return delta


def _set_strike(incident: Incident, strike: int | None, policy: StrikePolicy) -> None:
    """A strike and its consequence. Flags a higher rung demands are set; flags are never
    cleared, since staff may already have acted on them (the admin was told, the HOD met)."""
    incident.strike_level = strike
    if strike is None:
        incident.consequence_text = None
        return
    rung = policy.rung(strike)
    incident.consequence_text = rung.consequence
    incident.admin_notified = incident.admin_notified or rung.admin_notified
    incident.hod_consulted = incident.hod_consulted or rung.hod_consulted


async def restrike(
    session: AsyncSession,
    *,
    actor: Principal,
    student_id: uuid.UUID,
    changed_at: Sequence[datetime],
    policy: StrikePolicy,
    subject: Incident,
) -> list[StrikeChange]:
    """After a negative appeared or disappeared at `changed_at` (a void, a kind or time
    correction of `subject`), recompute in chronological order the strikes of the student's
    non-void negatives whose window contains one of those instants, and clear `subject`'s
    strike if it is no longer a negative. Call with the student row locked. Changed incidents
    other than `subject` (which its caller audits) get an `incident.restrike` audit row."""
    changes: list[StrikeChange] = []
    no_longer_negative = subject.voided_at is None and subject.kind is not IncidentKind.NEGATIVE
    if no_longer_negative and subject.strike_level is not None:
        changes.append(StrikeChange(subject, subject.strike_level, None))
        _set_strike(subject, None, policy)
    if not changed_at:
        return changes
    window = timedelta(hours=policy.window_hours)
    rows = (
        await session.execute(
            select(Incident)
            .where(
                Incident.org_id == actor.org_id,
                Incident.student_id == student_id,
                Incident.kind == IncidentKind.NEGATIVE,
                Incident.voided_at.is_(None),
                Incident.occurred_at > min(changed_at) - window,
                Incident.occurred_at < max(changed_at) + window,
            )
            .with_for_update()
        )
    ).scalars()
    # Chronological; at one instant, the order they were struck in (lower strike first).
    ordered = sorted(
        rows,
        key=lambda i: (
            i.occurred_at,
            i.strike_level or policy.max_strike + 1,
            i.created_at,
            i.id,
        ),
    )
    times = [i.occurred_at for i in ordered]
    for index, incident in enumerate(ordered):
        at = incident.occurred_at
        if not any(c <= at < c + window for c in changed_at):
            continue
        prior = index - bisect_right(times, at - window, 0, index)
        strike = policy.strike_for(prior)
        if strike == incident.strike_level:
            continue
        before = None if incident is subject else audit.snapshot(incident)
        changes.append(StrikeChange(incident, incident.strike_level, strike))
        _set_strike(incident, strike, policy)
        if before is not None:
            await audit.record(
                session, actor=actor, action="incident.restrike", entity=incident, before=before
            )
    return changes
