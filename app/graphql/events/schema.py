"""The live subscriptions (graphql-transport-ws and graphql-ws; see app.graphql.sockets).

Each follows the event log through the process's LiveHub (app.events.live): `since` replays
what came after it, then the stream goes on live, no gap, no duplicate. Role rules are the
queries': a subscription a role may not open is refused, and each delivered item is checked
(a topic the role may not see is not delivered; fields keep their own permissions). Every
event's loaders are its own, shared by all the subscribers it reaches."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry

from app.core import contracts as C
from app.core.errors import ErrorCode, FieldError, ServiceError
from app.dashboard import service as dashboard
from app.events.live import Delivery, LiveHub
from app.events.service import EventScope, Topic
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.dataloaders import Loaders
from app.graphql.events.types import (
    DashboardSnapshot,
    IncidentEvent,
    LogEvent,
    RiskEvent,
    ScopeInput,
    StudentEvent,
    scope_of,
)
from app.graphql.imports.types import ImportJob, load_job
from app.graphql.permissions import ALL_ROLES, STAFF, allow, roles_note
from app.graphql.relay import parse_id
from app.graphql.risk.types import RiskFactor
from app.graphql.students.types import Student
from app.imports.models import FINISHED
from app.metrics import EVENTS_DELIVERED, SUBSCRIPTIONS
from app.orgs.models import Role

T = TypeVar("T")

Since = Annotated[
    strawberry.ID | None,
    limited_argument(
        C.Cursor,
        description="The id of the last event you received: replay everything after it, "
        "then go on live. Older than the event log's retention: RESUME_EXPIRED (refetch).",
    ),
]
Scope = Annotated[ScopeInput | None, strawberry.argument(description="Empty: the whole school.")]

# Who may see each topic's events (the roles that may read what it changes).
_STAFF_TOPICS = {
    Topic.ATTENDANCE_RECORDED,
    Topic.ASSESSMENT_RECORDED,
    Topic.RISK_CHANGED,
    Topic.INTERVENTION_CHANGED,
    Topic.IEP_CHANGED,
    Topic.FILE_PROGRESS,
    Topic.IMPORT_PROGRESS,  # aides see nothing of imports
}


_ALL_BUT_STAFF_TOPICS = (
    f"{roles_note(*ALL_ROLES)} "
    "(aides: not attendance, assessments, risk, interventions, IEPs or imports)"
)


def may_see(role: Role, topic: str) -> bool:
    return role in STAFF or topic not in _STAFF_TOPICS


def _hub(info: Info) -> LiveHub:
    if info.context.live is None:  # pragma: no cover - the app always has one
        raise RuntimeError("no live hub in this context")
    return info.context.live


async def _follow(
    info: Info,
    name: str,
    scope: EventScope,
    *,
    topics: Sequence[str] | None,
    since: str | None,
    accepts: Callable[[Delivery], bool] | None = None,
) -> AsyncIterator[Delivery]:
    """The deliveries one subscriber gets, each with its loaders in place."""
    actor = info.context.actor
    SUBSCRIPTIONS.labels(name).inc()
    delivered = EVENTS_DELIVERED.labels(name)
    try:
        async for d in _hub(info).follow(actor.org_id, scope, topics=topics, since=since):
            if not may_see(actor.role, d.event.topic) or (accepts and not accepts(d)):
                continue
            loaders = d.shared.get(Loaders)
            if loaders is None:
                loaders = d.shared[Loaders] = Loaders(info.context.db, actor.org_id)
            info.context.use_loaders(loaders)
            delivered.inc()
            yield d
    finally:
        SUBSCRIPTIONS.labels(name).dec()


def _shared(d: Delivery, build: Callable[[Delivery], T]) -> T:
    """One payload object per event and kind, for every subscriber (their executions of the
    same document are then shared too)."""
    found = d.shared.get(build)
    if found is None:
        found = d.shared[build] = build(d)
    return cast(T, found)


def _incident_event(d: Delivery) -> IncidentEvent:
    return IncidentEvent(
        id=cast(strawberry.ID, d.cursor),
        incident_id=uuid.UUID(d.event.payload["incidentId"]),
        shared=d.shared,
    )


def _student_event(d: Delivery) -> StudentEvent:
    assert d.event.student_id is not None
    return StudentEvent(
        id=cast(strawberry.ID, d.cursor),
        topic=d.event.topic,
        student_id=d.event.student_id,
        shared=d.shared,
    )


def _log_event(d: Delivery) -> LogEvent:
    return LogEvent(
        id=cast(strawberry.ID, d.cursor),
        topic=d.event.topic,
        occurred_at=d.event.created_at,
        payload=cast(Any, d.event.payload),
        shared=d.shared,
    )


def _topics(topics: list[str] | None) -> list[str] | None:
    if topics is None:
        return None
    known = {t.value for t in Topic}
    errors = [
        FieldError(
            f"topics[{i}]", f"unknown topic {t!r}; known: {sorted(known)}", ErrorCode.INVALID
        )
        for i, t in enumerate(topics)
        if t not in known
    ]
    if errors:
        raise ServiceError(errors)
    return topics


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[allow(*ALL_ROLES)],
        description=f"Incidents logged in the scope. {roles_note(*ALL_ROLES)}",
    )
    async def incident_logged(
        self, info: Info, scope: Scope = None, since: Since = None
    ) -> AsyncGenerator[IncidentEvent, None]:
        topics = [Topic.INCIDENT_LOGGED.value]
        async for d in _follow(info, "incidentLogged", scope_of(scope), topics=topics, since=since):
            yield _shared(d, _incident_event)

    @strawberry.subscription(
        permission_classes=[allow(*STAFF)],
        description="An import's job as it runs: now, then after every batch, until it ends "
        f"(the subscription then completes). {roles_note(*STAFF)}",
    )
    async def import_progress(
        self, info: Info, job_id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> AsyncGenerator[ImportJob, None]:
        raw = parse_id(job_id, "ImportJob", "jobId")
        job = await load_job(info, raw)
        if job is None:
            raise ServiceError.single("jobId", "import not found", ErrorCode.NOT_FOUND)
        yield job
        if job.model.status in FINISHED:
            return
        # The job's row is the truth and each event only says "look again": a pump follows
        # the job's events, and the job is read again after each (or after a quiet spell,
        # in case its last batch committed before the feed was joined).
        changed = asyncio.Event()

        async def pump() -> None:
            scope = EventScope(import_job_id=raw)
            topics = [Topic.IMPORT_PROGRESS.value]
            async for _d in _follow(info, "importProgress", scope, topics=topics, since=None):
                changed.set()

        pumping = asyncio.create_task(pump())
        quiet = max(1.0, 2 * info.context.settings.live_poll_seconds)
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(quiet):
                        await changed.wait()
                changed.clear()
                if pumping.done():
                    pumping.result()  # its error, if it ended with one
                fresh = await load_job(info, raw)
                if fresh is None:  # pragma: no cover - a job is never deleted
                    return
                if fresh.model.updated_at != job.model.updated_at:
                    job = fresh
                    yield job
                if job.model.status in FINISHED:
                    return
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping

    @strawberry.subscription(
        permission_classes=[allow(*ALL_ROLES)],
        description="Any change to the student's record: incidents, attendance, assessments, "
        f"risk, interventions, the record itself. {_ALL_BUT_STAFF_TOPICS}",
    )
    async def student_updated(
        self,
        info: Info,
        student_id: Annotated[strawberry.ID, limited_argument(C.GlobalId)],
        since: Since = None,
    ) -> AsyncGenerator[StudentEvent, None]:
        sid = parse_id(student_id, "Student", "studentId")
        if await Student.load(info, sid) is None:
            raise ServiceError.single("studentId", "student not found", ErrorCode.NOT_FOUND)
        async for d in _follow(
            info,
            "studentUpdated",
            EventScope(student_id=sid),
            topics=None,
            since=since,
            accepts=lambda d: d.event.student_id == sid,
        ):
            yield _shared(d, _student_event)

    @strawberry.subscription(
        permission_classes=[allow(*STAFF)],
        description="Risk tier changes in the scope, into or out of minTier and above. "
        f"{roles_note(*STAFF)}",
    )
    async def risk_changed(
        self,
        info: Info,
        scope: Scope = None,
        min_tier: Annotated[int | None, limited_argument(C.Tier)] = None,
        since: Since = None,
    ) -> AsyncGenerator[RiskEvent, None]:
        floor = min_tier or 1

        def reaches(d: Delivery) -> bool:
            p = d.event.payload
            return max(p.get("tier") or 0, p.get("previousTier") or 0) >= floor

        async for d in _follow(
            info,
            "riskChanged",
            scope_of(scope),
            topics=[Topic.RISK_CHANGED.value],
            since=since,
            accepts=reaches,
        ):
            yield _shared(d, _risk_event)

    @strawberry.subscription(
        permission_classes=[allow(*ALL_ROLES)],
        description="The event log itself: every change in the scope, optionally of some "
        f"topics only. {_ALL_BUT_STAFF_TOPICS}",
    )
    async def events(
        self,
        info: Info,
        scope: Scope = None,
        topics: Annotated[
            list[str] | None,
            limited_argument(C.Topic, description=f"Any of: {', '.join(t.value for t in Topic)}."),
        ] = None,
        since: Since = None,
    ) -> AsyncGenerator[LogEvent, None]:
        wanted = _topics(topics)
        async for d in _follow(info, "events", scope_of(scope), topics=wanted, since=since):
            yield _shared(d, _log_event)

    @strawberry.subscription(
        permission_classes=[allow(*ALL_ROLES)],
        description="The scope's dashboard figures: now, then after every change (at most a "
        f"few per second). {roles_note(*ALL_ROLES)} (studentsByTier: staff only)",
    )
    async def dashboard(
        self, info: Info, scope: Scope = None
    ) -> AsyncGenerator[DashboardSnapshot, None]:
        actor, db, where = info.context.actor, info.context.db, scope_of(scope)

        async def compute(event_id: str | None) -> DashboardSnapshot:
            figures = await dashboard.snapshot(
                db, org_id=actor.org_id, scope=where, now=datetime.now(UTC), event_id=event_id
            )
            return DashboardSnapshot.from_snapshot(figures)

        SUBSCRIPTIONS.labels("dashboard").inc()
        delivered = EVENTS_DELIVERED.labels("dashboard")
        try:
            async for snapshot in _hub(info).dashboard(actor.org_id, where, compute):
                delivered.inc()
                yield snapshot
        finally:
            SUBSCRIPTIONS.labels("dashboard").dec()


def _risk_event(d: Delivery) -> RiskEvent:
    p = d.event.payload
    assert d.event.student_id is not None
    return RiskEvent(
        id=cast(strawberry.ID, d.cursor),
        previous_tier=p.get("previousTier"),
        tier=int(p["tier"]),
        factors=[RiskFactor.from_json(f) for f in p.get("factors") or []],
        student_id=d.event.student_id,
        shared=d.shared,
    )
