"""Incidents: the strike policy, the incident journey, escalation flags and queries."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError, Validator
from app.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    apply_keyset,
    pages_per_parent,
    to_page,
)
from app.db import driver_fetchrow, loaded_from_driver
from app.events import service as events
from app.events.service import Topic
from app.incidents.models import Incident, IncidentKind
from app.orgs.policy import OrgPolicy, StrikePolicy

NEWEST_FIRST = (
    SortKey(Incident.occurred_at, descending=True),
    SortKey(Incident.id, descending=True),
)
# Clocks on tablets drift; an incident a little in the future is accepted, a day is not.
_FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass
class IncidentData:
    student_id: uuid.UUID
    kind: IncidentKind
    category: str
    note: str | None = None
    points: int | None = None
    class_code: str | None = None
    lesson_session_id: str | None = None
    occurred_at: datetime | None = None
    client_id: uuid.UUID | None = None
    antecedent: str | None = None
    behaviour: str | None = None
    consequence: str | None = None
    source: str = "console"


@dataclass
class IncidentFilter:
    student_id: uuid.UUID | None = None
    class_code: str | None = None
    kind: IncidentKind | None = None
    start: datetime | None = None
    end: datetime | None = None
    voided: bool | None = None


def _text(
    v: Validator, field: str, value: str | None, contract: C.Contract, *, required: bool = False
) -> str | None:
    """The value as stored (NFC, trimmed, None when blank), within its contract's length."""
    assert contract.max_length is not None, contract.name
    return v.text(field, value, max_length=contract.max_length, required=required)


def _category(v: Validator, value: str | None) -> str:
    return _text(v, "category", value, C.Category, required=True) or ""


def _note(v: Validator, value: str | None) -> str | None:
    return _text(v, "note", value, C.Note)


def _occurred_at(v: Validator, value: datetime, now: datetime) -> None:
    if value.tzinfo is None:
        v.add("occurredAt", "occurredAt needs a time zone offset", ErrorCode.INVALID)
    elif value > now + _FUTURE_TOLERANCE:
        v.add("occurredAt", "occurredAt is in the future", ErrorCode.OUT_OF_RANGE)


def validate_new(data: IncidentData, now: datetime) -> IncidentData:
    """A new incident's fields checked, as they are stored (texts cleaned, see
    Validator.text), with the defaults filled (occurredAt = now); `data` is left as it is."""
    v = Validator()
    category = _category(v, data.category)
    note = _note(v, data.note)
    class_code = _text(v, "classCode", data.class_code, C.ClassCode)
    lesson_session_id = _text(v, "lessonSessionId", data.lesson_session_id, C.SessionId)
    antecedent = _text(v, "antecedent", data.antecedent, C.AbcNote)
    behaviour = _text(v, "behaviour", data.behaviour, C.AbcNote)
    consequence = _text(v, "consequence", data.consequence, C.AbcNote)
    low, high = C.Points.bounds
    v.int_range("points", data.points, int(low), int(high))
    occurred = data.occurred_at or now
    _occurred_at(v, occurred, now)
    v.raise_if_any()
    return replace(
        data,
        category=category,
        note=note,
        class_code=class_code,
        lesson_session_id=lesson_session_id,
        antecedent=antecedent,
        behaviour=behaviour,
        consequence=consequence,
        occurred_at=occurred,
    )


def fingerprint(data: IncidentData, *, occurred_at_given: bool) -> str:
    """What the client sent with its client id, as a sha256 of canonical JSON: a resend with
    the same client id must send the same. Call on validated data; occurredAt counts only when
    the client gave it (a resend's default "now" is not a different payload)."""
    sent = {
        "studentId": str(data.student_id),
        "kind": data.kind.value,
        "category": data.category,
        "note": data.note,
        "points": data.points,
        "classCode": data.class_code,
        "lessonSessionId": data.lesson_session_id,
        "occurredAt": data.occurred_at.astimezone(UTC).isoformat()
        if occurred_at_given and data.occurred_at is not None
        else None,
        "antecedent": data.antecedent,
        "behaviour": data.behaviour,
        "consequence": data.consequence,
    }
    canonical = json.dumps(sent, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_resend(found: Incident, fingerprint: str | None) -> Incident:
    """The first incident, for a resend of the same payload; a user error for another payload.
    Incidents logged before fingerprints were stored have none: they match any resend."""
    if found.client_fingerprint is not None and found.client_fingerprint != fingerprint:
        raise ServiceError.single(
            "clientId",
            "this clientId was already used for a different incident",
            ErrorCode.IDEMPOTENCY_CONFLICT,
        )
    return found


def default_points(kind: IncidentKind, policy: OrgPolicy) -> int:
    hp = policy.house_points
    return {IncidentKind.POSITIVE: hp.positive, IncidentKind.NEGATIVE: hp.negative}.get(
        kind, hp.neutral
    )


# The student's non-void negatives in the window around $3: at or before it, and after it.
_STRIKE_WINDOW = (
    "SELECT count(*) FILTER (WHERE occurred_at <= $3), count(*) FILTER (WHERE occurred_at > $3)"
    " FROM incidents WHERE org_id = $1 AND student_id = $2 AND kind = 'NEGATIVE'"
    " AND voided_at IS NULL AND occurred_at > $4 AND occurred_at < $5"
)
_BY_CLIENT_ID = "SELECT * FROM incidents WHERE org_id = $1 AND client_id = $2"


@dataclass(frozen=True)
class NewStrike:
    strike: int
    later: int  # non-void negatives after it whose window holds it: their strikes may change


async def strike_for(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_id: uuid.UUID,
    occurred_at: datetime,
    policy: StrikePolicy,
) -> NewStrike:
    """The strike a new negative at `occurred_at` earns, and how many later negatives count
    it (one logged with an earlier time, by offline sync), in one statement. Call with the
    student row locked, so concurrent negatives count each other (same instant included)
    and get consecutive strikes."""
    window = timedelta(hours=policy.window_hours)
    row = await driver_fetchrow(
        session,
        _STRIKE_WINDOW,
        org_id,
        student_id,
        occurred_at,
        occurred_at - window,
        occurred_at + window,
    )
    assert row is not None
    prior, later = row
    return NewStrike(policy.strike_for(prior), later)


async def by_client_id(
    session: AsyncSession, org_id: uuid.UUID, client_id: uuid.UUID
) -> Incident | None:
    row = await driver_fetchrow(session, _BY_CLIENT_ID, org_id, client_id)
    return None if row is None else loaded_from_driver(session, Incident, row)


async def update_flags(
    session: AsyncSession,
    *,
    actor: Principal,
    incident_id: uuid.UUID,
    parent_meeting_scheduled: bool | None = None,
    hod_consulted: bool | None = None,
    admin_notified: bool | None = None,
) -> Incident:
    """Escalation flags staff set after the fact."""
    incident = (
        await session.execute(
            select(Incident)
            .where(Incident.org_id == actor.org_id, Incident.id == incident_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if incident is None:
        raise ServiceError.single("id", "no such incident", ErrorCode.NOT_FOUND)
    before = audit.snapshot(incident)
    # The admin is notified now (the admin-alert webhooks go out: app.integrations.outbox).
    notifies = admin_notified is True and not incident.admin_notified
    if parent_meeting_scheduled is not None:
        incident.parent_meeting_scheduled = parent_meeting_scheduled
    if hod_consulted is not None:
        incident.hod_consulted = hod_consulted
    if admin_notified is not None:
        incident.admin_notified = admin_notified
    await audit.record(
        session, actor=actor, action="incident.update", entity=incident, before=before
    )
    await session.flush()  # the outbox reads the incident's row in the event's statement
    payload: dict[str, object] = {"incidentId": str(incident.id), "change": "follow-up"}
    if notifies:
        payload["adminNotified"] = True
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.INCIDENT_UPDATED,
        students={incident.student_id: payload},
    )
    return incident


@dataclass
class Correction:
    """What a correction changes; None leaves a field as it is (an empty note clears it)."""

    category: str | None = None
    note: str | None = None
    kind: IncidentKind | None = None
    occurred_at: datetime | None = None


def validate_void_reason(reason: str | None) -> str:
    v = Validator()
    cleaned = _text(v, "reason", reason, C.Reason, required=True)
    v.raise_if_any()
    return cleaned or ""


def validate_correction(correction: Correction, now: datetime) -> Correction:
    """The same field rules as a new incident's, for the fields the correction gives."""
    c = correction
    if c.category is None and c.note is None and c.kind is None and c.occurred_at is None:
        raise ServiceError.single(
            None, "give at least one of category, note, kind, occurredAt", ErrorCode.REQUIRED
        )
    v = Validator()
    if c.category is not None:
        c.category = _category(v, c.category)
    if c.note is not None:
        c.note = _note(v, c.note) or ""
    if c.occurred_at is not None:
        _occurred_at(v, c.occurred_at, now)
    v.raise_if_any()
    return c


def filtered(org_id: uuid.UUID, flt: IncidentFilter | None) -> Select[Incident]:
    stmt = select(Incident).where(Incident.org_id == org_id)
    if flt is None:
        return stmt
    if flt.student_id is not None:
        stmt = stmt.where(Incident.student_id == flt.student_id)
    if flt.class_code is not None:
        stmt = stmt.where(Incident.class_code == flt.class_code)
    if flt.kind is not None:
        stmt = stmt.where(Incident.kind == flt.kind)
    if flt.start is not None:
        stmt = stmt.where(Incident.occurred_at >= flt.start)
    if flt.end is not None:
        stmt = stmt.where(Incident.occurred_at < flt.end)
    if flt.voided is not None:
        stmt = stmt.where(
            Incident.voided_at.is_not(None) if flt.voided else Incident.voided_at.is_(None)
        )
    return stmt


async def list_page(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    flt: IncidentFilter | None,
    page: PageRequest,
) -> Page[Incident]:
    stmt = apply_keyset(filtered(org_id, flt), NEWEST_FIRST, page)
    return to_page((await session.execute(stmt)).scalars().all(), NEWEST_FIRST, page)


async def pages_per_student(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    page: PageRequest,
) -> dict[uuid.UUID, Page[Incident]]:
    """The same page (newest first) of many students' incidents, in one statement."""
    ids = list(student_ids)
    return await pages_per_parent(
        session,
        select(Incident).where(Incident.org_id == org_id, Incident.student_id.in_(ids)),
        entity=Incident,
        parent=Incident.student_id,
        parent_ids=ids,
        keys=NEWEST_FIRST,
        page=page,
    )


async def current_strike_levels(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    window: timedelta,
    now: datetime | None = None,
) -> dict[uuid.UUID, int]:
    """A student's strike level now: the strike of their latest negative inside the window."""
    ids = list(student_ids)
    now = now or datetime.now(UTC)
    rows = await session.execute(
        select(Incident.student_id, Incident.strike_level)
        .where(
            Incident.org_id == org_id,
            Incident.student_id.in_(ids),
            Incident.kind == IncidentKind.NEGATIVE,
            Incident.voided_at.is_(None),
            Incident.occurred_at > now - window,
            Incident.occurred_at <= now,
        )
        .ext(distinct_on(Incident.student_id))
        .order_by(Incident.student_id, Incident.occurred_at.desc(), Incident.id.desc())
    )
    levels = {sid: int(level or 0) for sid, level in rows}
    return {sid: levels.get(sid, 0) for sid in ids}
