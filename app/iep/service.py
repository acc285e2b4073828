"""IEP goals and probes: the rules for writing them, and reading them with their progress.

Every write keeps the goal's `off_track_streak` (app.iep.progress) so that risk reads one
number per goal; app.iep.flows recomputes the student's risk after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError, Validator
from app.core.pagination import Page, PageRequest, SortKey, pages_per_parent
from app.events import service as events
from app.events.service import Topic
from app.iep.models import GoalDirection, GoalStatus, IepGoal, IepNarrative, IepProbe
from app.iep.progress import TREND_PROBES, Point, Progress, off_track_streak, progress
from app.orgs import service as orgs
from app.orgs.policy import local_today, org_zone
from app.students import service as students

_OLD_PROBE = audit.old_columns(IepProbe)

# A probe may be dated a little ahead of the server's clock (a tablet's clock runs fast),
# never days ahead.
_FUTURE_SLACK = timedelta(hours=1)


@dataclass
class GoalChanges:
    area: str | None = None
    title: str | None = None
    baseline: float | None = None
    target: float | None = None
    unit: str | None = None
    direction: GoalDirection | None = None
    start_date: date | None = None
    due_date: date | None = None
    status: GoalStatus | None = None


@dataclass(frozen=True)
class ProbeData:
    goal_id: uuid.UUID | None  # None: what was sent is not an IepGoal id
    taken_at: datetime
    value: float
    note: str | None = None


_TEXTS = (("area", C.Label), ("title", C.GoalTitle), ("unit", C.Unit))


def _clean(changes: GoalChanges, creating: bool) -> dict[str, Any]:
    """The columns to write (given values, texts cleaned); every problem at once."""
    v = Validator()
    values: dict[str, Any] = {}
    for name, contract in _TEXTS:
        value = getattr(changes, name)
        if value is not None or creating:
            values[name] = v.text(name, value, max_length=contract.length, required=True)
    low, high = C.GoalValue.bounds
    for name in ("baseline", "target"):
        value = getattr(changes, name)
        if value is None:
            if creating:
                v.add(name, f"{name} is required", ErrorCode.REQUIRED)
            continue
        if not low <= value <= high:
            v.add(name, f"{name} must be between {low:g} and {high:g}", ErrorCode.OUT_OF_RANGE)
        values[name] = Decimal(str(round(value, 2)))
    for name in ("direction", "start_date", "due_date", "status"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = value
        elif creating and name in ("direction", "due_date"):
            field = "dueDate" if name == "due_date" else name
            v.add(field, f"{field} is required", ErrorCode.REQUIRED)
    v.raise_if_any()
    return values


def _check_terms(goal: IepGoal) -> None:
    """The rules between a goal's values, on the goal as it will be written."""
    v = Validator()
    if goal.due_date <= goal.start_date:
        v.add("dueDate", "dueDate must be after startDate", ErrorCode.INVALID)
    if goal.target == goal.baseline:
        v.add("target", "target must differ from baseline", ErrorCode.INVALID)
    elif (goal.target > goal.baseline) != (goal.direction is GoalDirection.INCREASE):
        want = "above" if goal.direction is GoalDirection.INCREASE else "below"
        v.add(
            "target",
            f"a {goal.direction.value} goal's target must be {want} its baseline",
            ErrorCode.INVALID,
        )
    v.raise_if_any()


async def create_goal(
    session: AsyncSession, *, actor: Principal, student_id: uuid.UUID, changes: GoalChanges
) -> IepGoal:
    values = _clean(changes, creating=True)
    await students.require(session, org_id=actor.org_id, student_id=student_id)
    if "start_date" not in values:  # the school's today
        policy = await orgs.get_policy(session, org_id=actor.org_id)
        values["start_date"] = local_today(policy, datetime.now(UTC))
    goal = IepGoal(
        org_id=actor.org_id,
        student_id=student_id,
        status=GoalStatus.ACTIVE,
        off_track_streak=0,
        created_by=actor.sub,
        **values,
    )
    _check_terms(goal)
    session.add(goal)
    await audit.record(session, actor=actor, action="iep_goal.create", entity=goal, before=None)
    await _changed(session, [goal], "create")
    return goal


async def update_goal(
    session: AsyncSession, *, actor: Principal, goal_id: uuid.UUID, changes: GoalChanges
) -> IepGoal:
    values = _clean(changes, creating=False)
    goal = await _locked_goal(session, org_id=actor.org_id, goal_id=goal_id, field="id")
    before = audit.snapshot(goal)
    for name, value in values.items():
        setattr(goal, name, value)
    _check_terms(goal)
    await _refresh_streaks(session, [goal])
    await audit.record(session, actor=actor, action="iep_goal.update", entity=goal, before=before)
    await _changed(session, [goal], "update")
    return goal


async def record_probes(
    session: AsyncSession, *, actor: Principal, probes: Sequence[ProbeData], now: datetime
) -> list[IepProbe]:
    """Record probes, all or none: every problem is named by its item (`probes[2].value`).
    A probe of a goal at an instant already recorded replaces that one's value and note."""
    v = Validator()
    low, high = C.GoalValue.bounds
    notes: list[str | None] = []
    if not probes:
        v.add("probes", "give at least one probe", ErrorCode.REQUIRED)
    for i, probe in enumerate(probes):
        if probe.taken_at.tzinfo is None:
            v.add(
                f"probes[{i}].takenAt",
                "takenAt needs a time zone offset, e.g. 2026-10-01T09:30:00+01:00",
                ErrorCode.INVALID,
            )
            notes.append(None)
            continue
        if probe.goal_id is None:
            v.add(f"probes[{i}].goalId", "not an IepGoal id", ErrorCode.INVALID)
        if not low <= probe.value <= high:
            v.add(
                f"probes[{i}].value",
                f"value must be between {low:g} and {high:g}",
                ErrorCode.OUT_OF_RANGE,
            )
        if probe.taken_at > now + _FUTURE_SLACK:
            v.add(f"probes[{i}].takenAt", "takenAt is in the future", ErrorCode.INVALID)
        notes.append(v.text(f"probes[{i}].note", probe.note, max_length=C.Note.length))
    v.raise_if_any()
    goal_ids = sorted({p.goal_id for p in probes if p.goal_id is not None})
    goals = {g.id: g for g in await _lock_goals(session, org_id=actor.org_id, goal_ids=goal_ids)}
    rows = []
    for i, (probe, note) in enumerate(zip(probes, notes, strict=True)):
        goal = goals.get(probe.goal_id) if probe.goal_id is not None else None
        if goal is None:
            v.add(f"probes[{i}].goalId", "no such IEP goal", ErrorCode.NOT_FOUND)
            continue
        rows.append(
            {
                "id": uuid.uuid4(),
                "org_id": actor.org_id,
                "goal_id": goal.id,
                "student_id": goal.student_id,
                "taken_at": probe.taken_at,
                "value": Decimal(str(round(probe.value, 2))),
                "note": note,
                "recorded_by": actor.sub,
            }
        )
    v.raise_if_any()
    # The last of two probes of one goal and instant in the same batch wins, as a replay would.
    unique = list({(r["goal_id"], r["taken_at"]): r for r in rows}.values())
    stmt = insert(IepProbe).values(unique)
    upsert = stmt.on_conflict_do_update(
        index_elements=[IepProbe.goal_id, IepProbe.taken_at],
        set_={"value": stmt.excluded.value, "note": stmt.excluded.note},
    ).returning(IepProbe, *_OLD_PROBE)
    written, changes = [], []
    for row in await session.execute(upsert):
        written.append(row[0])
        # A replaced probe is audited with the value and note it replaced.
        changes.append((row[0], audit.before_upsert(IepProbe, row._mapping)))
    await audit.record_many(session, actor=actor, action="iep_probe.record", changes=changes)
    await _refresh_streaks(session, list(goals.values()))
    await _changed(session, list(goals.values()), "probe")
    return written


_LOCK_STUDENTS = text(
    "SELECT id FROM students WHERE org_id = :org_id AND id IN"
    " (SELECT student_id FROM iep_goals WHERE org_id = :org_id AND id = ANY(:goal_ids))"
    " ORDER BY id FOR UPDATE"
)


async def _lock_goals(
    session: AsyncSession, *, org_id: uuid.UUID, goal_ids: Sequence[uuid.UUID]
) -> list[IepGoal]:
    """Lock the goals' students, then the goals, each in id order: the order erasure and
    risk take (students first), so that none of them can deadlock another. One writer of
    a goal's probes, and so of its streak, at a time."""
    ids = sorted(set(goal_ids))
    if not ids:
        return []
    await session.execute(_LOCK_STUDENTS, {"org_id": org_id, "goal_ids": ids})
    rows = await session.execute(
        select(IepGoal)
        .where(IepGoal.org_id == org_id, IepGoal.id.in_(ids))
        .order_by(IepGoal.id)
        .with_for_update()
    )
    return list(rows.scalars())


async def _locked_goal(
    session: AsyncSession, *, org_id: uuid.UUID, goal_id: uuid.UUID, field: str
) -> IepGoal:
    found = await _lock_goals(session, org_id=org_id, goal_ids=[goal_id])
    if not found:
        raise ServiceError.single(field, "no such IEP goal", ErrorCode.NOT_FOUND)
    return found[0]


async def _refresh_streaks(session: AsyncSession, goals: Sequence[IepGoal]) -> None:
    """Recount each goal's off-track streak on all of its probes (one statement)."""
    if not goals:
        return
    await session.flush()
    org_id = goals[0].org_id
    zone = org_zone(await orgs.get_policy(session, org_id=org_id))
    points = await _points(session, org_id=org_id, goal_ids=[g.id for g in goals])
    for goal in goals:
        goal.off_track_streak = off_track_streak(goal, points.get(goal.id, []), zone)


async def _points(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    goal_ids: Sequence[uuid.UUID],
    last: int | None = None,
) -> dict[uuid.UUID, list[Point]]:
    """Each goal's probes as points, oldest first (only the `last` few of each, if given)."""
    ranked = select(
        IepProbe.goal_id,
        IepProbe.taken_at,
        IepProbe.value,
        func.row_number()
        .over(partition_by=IepProbe.goal_id, order_by=IepProbe.taken_at.desc())
        .label("rn"),
    ).where(IepProbe.org_id == org_id, IepProbe.goal_id.in_(list(goal_ids)))
    sub = ranked.subquery()
    stmt = select(sub.c.goal_id, sub.c.taken_at, sub.c.value)
    if last is not None:
        stmt = stmt.where(sub.c.rn <= last)
    stmt = stmt.order_by(sub.c.goal_id, sub.c.taken_at)
    out: dict[uuid.UUID, list[Point]] = {}
    for goal_id, taken_at, value in await session.execute(stmt):
        out.setdefault(goal_id, []).append(Point(taken_at, float(value)))
    return out


async def _changed(session: AsyncSession, goals: Sequence[IepGoal], change: str) -> None:
    await session.flush()
    await events.record(
        session,
        org_id=goals[0].org_id,
        topic=Topic.IEP_CHANGED,
        students={
            sid: {"goalIds": [str(g.id) for g in goals if g.student_id == sid], "change": change}
            for sid in {g.student_id for g in goals}
        },
    )


async def set_narrative(
    session: AsyncSession,
    *,
    actor: Principal,
    goal_id: uuid.UUID,
    period_start: date,
    period_end: date,
    text: str,
) -> IepNarrative:
    """The comment printed under a goal for one reporting period: written, or replaced."""
    v = Validator()
    cleaned = v.text("text", text, max_length=C.Narrative.length, required=True)
    if period_end < period_start:
        v.add("periodEnd", "periodEnd is before periodStart", ErrorCode.INVALID)
    v.raise_if_any()
    goal = await _locked_goal(session, org_id=actor.org_id, goal_id=goal_id, field="goalId")
    row = (
        await session.execute(
            select(IepNarrative).where(
                IepNarrative.org_id == actor.org_id,
                IepNarrative.goal_id == goal.id,
                IepNarrative.period_start == period_start,
                IepNarrative.period_end == period_end,
            )
        )
    ).scalar_one_or_none()
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = IepNarrative(
            org_id=actor.org_id,
            goal_id=goal.id,
            student_id=goal.student_id,
            period_start=period_start,
            period_end=period_end,
        )
        session.add(row)
    row.text = cleaned or ""
    row.written_by = actor.sub
    await audit.record(session, actor=actor, action="iep_narrative.set", entity=row, before=before)
    await _changed(session, [goal], "narrative")
    return row


# Reads.


async def narratives_for_goals(
    session: AsyncSession, *, org_id: uuid.UUID, goal_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[IepNarrative]]:
    """Each goal's narratives, latest period first."""
    ids = list(goal_ids)
    out: dict[uuid.UUID, list[IepNarrative]] = {gid: [] for gid in ids}
    rows = await session.execute(
        select(IepNarrative)
        .where(IepNarrative.org_id == org_id, IepNarrative.goal_id.in_(ids))
        .order_by(IepNarrative.period_end.desc(), IepNarrative.period_start.desc())
    )
    for row in rows.scalars():
        out[row.goal_id].append(row)
    return out


async def goals_for_students(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Iterable[uuid.UUID],
    status: GoalStatus | None = None,
) -> dict[uuid.UUID, list[IepGoal]]:
    ids = list(student_ids)
    stmt = select(IepGoal).where(IepGoal.org_id == org_id, IepGoal.student_id.in_(ids))
    if status is not None:
        stmt = stmt.where(IepGoal.status == status)
    out: dict[uuid.UUID, list[IepGoal]] = {sid: [] for sid in ids}
    for goal in (
        await session.execute(stmt.order_by(IepGoal.due_date, IepGoal.area, IepGoal.id))
    ).scalars():
        out[goal.student_id].append(goal)
    return out


async def progress_of(
    session: AsyncSession, *, org_id: uuid.UUID, goals: Sequence[IepGoal]
) -> dict[uuid.UUID, Progress]:
    """Each goal's progress, from its last TREND_PROBES probes (and the school's time
    zone): two statements."""
    zone = org_zone(await orgs.get_policy(session, org_id=org_id))
    points = await _points(
        session, org_id=org_id, goal_ids=[g.id for g in goals], last=TREND_PROBES
    )
    return {g.id: progress(g, points.get(g.id, []), zone) for g in goals}


# A goal's probes, newest first: the connection's order.
NEWEST_FIRST = (SortKey(IepProbe.taken_at, descending=True), SortKey(IepProbe.id, descending=True))


async def probe_pages(
    session: AsyncSession, *, org_id: uuid.UUID, goal_ids: Sequence[uuid.UUID], page: PageRequest
) -> dict[uuid.UUID, Page[IepProbe]]:
    """The same page of many goals' probes, in one statement."""
    ids = list(goal_ids)
    return await pages_per_parent(
        session,
        select(IepProbe).where(IepProbe.org_id == org_id, IepProbe.goal_id.in_(ids)),
        entity=IepProbe,
        parent=IepProbe.goal_id,
        parent_ids=ids,
        keys=NEWEST_FIRST,
        page=page,
    )
