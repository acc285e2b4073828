"""The incident journey: one transaction from the lesson console's tap to the risk picture.

Called by the GraphQL mutations, the webhooks and the imports alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.incidents import service
from app.incidents.models import Incident, IncidentKind
from app.metrics import INCIDENTS_LOGGED
from app.orgs import service as orgs
from app.risk import service as risk
from app.students import service as students


@dataclass(frozen=True)
class LoggedIncident:
    incident: Incident
    created: bool
    risk: risk.RiskChange | None


async def _resent(session: AsyncSession, actor: Principal, client_id: uuid.UUID) -> Incident | None:
    return await service.by_client_id(session, actor.org_id, client_id)


async def log_incident(
    session: AsyncSession, *, actor: Principal, data: service.IncidentData
) -> LoggedIncident:
    """The incident journey, in the caller's transaction: insert, strike, house points, risk.

    With a client id it is idempotent: a resend returns the first incident and writes nothing.
    """
    now = datetime.now(UTC)
    data = service.validate_new(data, now)
    assert data.occurred_at is not None
    if data.client_id and (found := await _resent(session, actor, data.client_id)):
        return LoggedIncident(found, created=False, risk=None)
    student = await students.require(
        session, org_id=actor.org_id, student_id=data.student_id, lock=True
    )
    if data.client_id and (found := await _resent(session, actor, data.client_id)):
        return LoggedIncident(found, created=False, risk=None)  # a concurrent resend won

    policy = await orgs.get_policy(session, org_id=actor.org_id)
    incident = Incident(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        student_id=student.id,
        kind=data.kind,
        category=data.category,
        points=service.default_points(data.kind, policy) if data.points is None else data.points,
        note=data.note,
        class_code=data.class_code or student.class_code,
        lesson_session_id=data.lesson_session_id,
        occurred_at=data.occurred_at,
        antecedent=data.antecedent,
        behaviour=data.behaviour,
        consequence=data.consequence,
        source=data.source,
        client_id=data.client_id,
        logged_by=actor.sub,
    )
    if data.kind is IncidentKind.NEGATIVE:
        strike = await service.strike_for(
            session,
            org_id=actor.org_id,
            student_id=student.id,
            occurred_at=data.occurred_at,
            policy=policy.strikes,
        )
        rung = policy.strikes.rung(strike)
        incident.strike_level = strike
        incident.consequence_text = rung.consequence
        incident.admin_notified = rung.admin_notified
        incident.hod_consulted = rung.hod_consulted
    if data.client_id is None:
        session.add(incident)
        await session.flush()
    else:
        try:
            async with session.begin_nested():
                session.add(incident)
                await session.flush()
        except IntegrityError:
            # The same client id for another student, logged concurrently: the first one wins.
            if found := await _resent(session, actor, data.client_id):
                return LoggedIncident(found, created=False, risk=None)
            raise
    await audit.record(session, actor=actor, action="incident.log", entity=incident, before=None)
    changes = await risk.recompute(
        session,
        actor=actor,
        student_ids=[student.id],
        trigger="incident",
        now=max(now, data.occurred_at),
        policy=policy,
        loaded=[student],
    )
    # After the risk reads, so that points and risk reach the student row in one UPDATE.
    student.house_points += incident.points
    INCIDENTS_LOGGED.labels(incident.kind.value).inc()
    return LoggedIncident(incident, created=True, risk=changes[0] if changes else None)
