"""The incident journey: one transaction from the lesson console's tap to the risk picture.

Called by the GraphQL mutations, the webhooks and the imports alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.db import driver_insert, driver_savepoint
from app.events import service as events
from app.events.service import Topic
from app.incidents import corrections, service
from app.incidents.corrections import StrikeChange
from app.incidents.models import Incident, IncidentKind
from app.metrics import INCIDENTS_LOGGED
from app.orgs import service as orgs
from app.orgs.policy import OrgPolicy
from app.risk import service as risk
from app.students import service as students
from app.students.models import Student


def incident_facts(incident: Incident) -> dict[str, object]:
    """What an incident's events say of it: ids and facts, no note text."""
    return {
        "incidentId": str(incident.id),
        "kind": incident.kind.value,
        "category": incident.category,
        "points": incident.points,
        "strikeLevel": incident.strike_level,
        "occurredAt": incident.occurred_at.isoformat(),
        "voided": incident.voided,
    }


def restruck(changes: list[StrikeChange]) -> dict[str, object]:
    return {"restruck": [str(c.incident.id) for c in changes]} if changes else {}


@dataclass(frozen=True)
class LoggedIncident:
    incident: Incident
    created: bool
    risk: risk.RiskChange | None
    # Later negatives restruck because this one, logged with an earlier time, counts for them.
    strike_changes: list[StrikeChange] = field(default_factory=list)


async def _lock_student(
    session: AsyncSession, actor: Principal, student_id: uuid.UUID
) -> tuple[Student, OrgPolicy]:
    """The student, row-locked (a student's incidents are logged, voided and corrected one
    at a time), and the org's policy, read in the same round trip."""
    student, (settings,) = await students.lock_with(
        session,
        org_id=actor.org_id,
        student_id=student_id,
        also=(orgs.settings_sql("s.org_id"),),
    )
    return student, orgs.policy_of(settings)


async def _resent(
    session: AsyncSession, actor: Principal, client_id: uuid.UUID, fingerprint: str | None
) -> Incident | None:
    """The incident a resend of this client id refers to, if any (a conflict if it differs)."""
    found = await service.by_client_id(session, actor.org_id, client_id)
    return service.check_resend(found, fingerprint) if found is not None else None


async def log_incident(
    session: AsyncSession, *, actor: Principal, data: service.IncidentData
) -> LoggedIncident:
    """The incident journey, in the caller's transaction: insert, strike, house points, risk.
    A negative timed before others in their window (offline sync) restrikes them.

    With a client id it is idempotent: a resend of the same payload returns the first incident
    and writes nothing; another payload with that client id is an IDEMPOTENCY_CONFLICT.
    """
    now = datetime.now(UTC)
    occurred_at_given = data.occurred_at is not None
    data = service.validate_new(data, now)
    assert data.occurred_at is not None
    fingerprint = (
        service.fingerprint(data, occurred_at_given=occurred_at_given) if data.client_id else None
    )
    if data.client_id and (found := await _resent(session, actor, data.client_id, fingerprint)):
        return LoggedIncident(found, created=False, risk=None)
    student, policy = await _lock_student(session, actor, data.student_id)
    if data.client_id and (found := await _resent(session, actor, data.client_id, fingerprint)):
        return LoggedIncident(found, created=False, risk=None)  # a concurrent resend won
    if not occurred_at_given:
        # The default "now" is taken under the student lock, so that taps a moment apart are
        # timed in the order they count each other (taken earlier, a later-locked incident
        # could get an earlier time than one it did not see, and both the same strike).
        now = data.occurred_at = datetime.now(UTC)

    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "org_id": actor.org_id,
        "student_id": student.id,
        "kind": data.kind,
        "category": data.category,
        "points": service.default_points(data.kind, policy) if data.points is None else data.points,
        "note": data.note,
        "class_code": data.class_code or student.class_code,
        "lesson_session_id": data.lesson_session_id,
        "occurred_at": data.occurred_at,
        "antecedent": data.antecedent,
        "behaviour": data.behaviour,
        "consequence": data.consequence,
        "source": data.source,
        "client_id": data.client_id,
        "client_fingerprint": fingerprint,
        "logged_by": actor.sub,
    }
    later_negatives = 0
    if data.kind is IncidentKind.NEGATIVE:
        struck = await service.strike_for(
            session,
            org_id=actor.org_id,
            student_id=student.id,
            occurred_at=data.occurred_at,
            policy=policy.strikes,
        )
        later_negatives = struck.later
        rung = policy.strikes.rung(struck.strike)
        values.update(
            strike_level=struck.strike,
            consequence_text=rung.consequence,
            admin_notified=rung.admin_notified,
            hod_consulted=rung.hod_consulted,
        )
    if data.client_id is None:
        incident = await driver_insert(session, Incident, values)
    else:
        try:
            async with driver_savepoint(session):
                incident = await driver_insert(session, Incident, values)
        except IntegrityError:
            # The same client id for another student, logged concurrently: the first one wins,
            # and this one is its resend only if it sent the same.
            if found := await _resent(session, actor, data.client_id, fingerprint):
                return LoggedIncident(found, created=False, risk=None)
            raise
    strike_changes = (
        # Only when it can matter: a tap timed "now" under the lock has none after it, unless
        # a client logged one a little in the future.
        await corrections.restrike(
            session,
            actor=actor,
            student_id=student.id,
            changed_at=[incident.occurred_at],
            policy=policy.strikes,
            subject=incident,
        )
        if later_negatives
        else []
    )
    await audit.record(session, actor=actor, action="incident.log", entity=incident, before=None)
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.INCIDENT_LOGGED,
        students={student.id: incident_facts(incident)},
    )
    if strike_changes:
        await events.record(
            session,
            org_id=actor.org_id,
            topic=Topic.INCIDENT_UPDATED,
            students={student.id: restruck(strike_changes)},
        )
    changes = await risk.recompute(
        session,
        actor=actor,
        student_ids=[student.id],
        trigger="incident",
        now=max(now, data.occurred_at),
        policy=policy,
        loaded=[student],
        points={student.id: incident.points},  # with the risk, in one UPDATE
    )
    INCIDENTS_LOGGED.labels(incident.kind.value).inc()
    return LoggedIncident(
        incident,
        created=True,
        risk=changes[0] if changes else None,
        strike_changes=strike_changes,
    )


@dataclass(frozen=True)
class ChangedIncident:
    incident: Incident
    strike_changes: list[StrikeChange]
    risk: risk.RiskChange | None


async def void_incident(
    session: AsyncSession, *, actor: Principal, incident_id: uuid.UUID, reason: str
) -> ChangedIncident:
    """Mark an incident void, in the caller's transaction: it stays in the record, and its
    strike effect on later negatives, its house points and its weight in risk are undone."""
    now = datetime.now(UTC)
    reason = service.validate_void_reason(reason)

    def void(incident: Incident, policy: OrgPolicy) -> tuple[list[datetime], int]:
        corrections.mark_void(incident, actor=actor, reason=reason, now=now)
        was_negative = incident.kind is IncidentKind.NEGATIVE
        return ([incident.occurred_at] if was_negative else []), -incident.points

    return await _change(
        session,
        actor=actor,
        incident_id=incident_id,
        if_void="the incident is already void",
        action="incident.void",
        now=now,
        change=void,
    )


async def correct_incident(
    session: AsyncSession,
    *,
    actor: Principal,
    incident_id: uuid.UUID,
    correction: service.Correction,
) -> ChangedIncident:
    """Correct category, note, kind or time, in the caller's transaction; house points follow
    a kind change (see corrections.apply_correction), strikes and risk are recomputed."""
    now = datetime.now(UTC)
    correction = service.validate_correction(correction, now)

    def correct(incident: Incident, policy: OrgPolicy) -> tuple[list[datetime], int]:
        was = (incident.kind, incident.occurred_at)
        points = corrections.apply_correction(incident, correction, policy)
        now_is = (incident.kind, incident.occurred_at)
        # Where a negative disappeared and where one appeared: the windows whose strikes change.
        changed_at = (
            sorted({at for kind, at in (was, now_is) if kind is IncidentKind.NEGATIVE})
            if now_is != was
            else []
        )
        return changed_at, points

    return await _change(
        session,
        actor=actor,
        incident_id=incident_id,
        if_void="a void incident cannot be corrected",
        action="incident.correct",
        now=now,
        change=correct,
    )


async def _change(
    session: AsyncSession,
    *,
    actor: Principal,
    incident_id: uuid.UUID,
    if_void: str,
    action: str,
    now: datetime,
    change: Callable[[Incident, OrgPolicy], tuple[list[datetime], int]],
) -> ChangedIncident:
    """A void or a correction: lock the student and the incident, apply `change` (which says
    where a negative appeared or disappeared, and the house points to add), restrike the
    affected windows, audit, then risk and house points (as after logging)."""
    student_id = await corrections.student_of(session, org_id=actor.org_id, incident_id=incident_id)
    student, policy = await _lock_student(session, actor, student_id)
    incident = await corrections.lock_for_change(
        session, org_id=actor.org_id, incident_id=incident_id, if_void=if_void
    )
    before = audit.snapshot(incident)
    changed_at, points = change(incident, policy)
    changes = await corrections.restrike(
        session,
        actor=actor,
        student_id=student.id,
        changed_at=changed_at,
        policy=policy.strikes,
        subject=incident,
    )
    await audit.record(session, actor=actor, action=action, entity=incident, before=before)
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.INCIDENT_UPDATED,
        students={student.id: {**incident_facts(incident), "change": action, **restruck(changes)}},
    )
    risk_changes = await risk.recompute(
        session,
        actor=actor,
        student_ids=[student.id],
        trigger="incident",
        now=max(now, incident.occurred_at),
        policy=policy,
        loaded=[student],
        points={student.id: points},  # with the risk, in one UPDATE
    )
    return ChangedIncident(incident, changes, risk_changes[0] if risk_changes else None)
