"""What the live subscriptions deliver. Every item carries its event `id`: pass the last one
you received as `since` to resume after it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.core import contracts as C
from app.dashboard.service import Snapshot
from app.events.service import EventScope
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.incidents.dataloaders import IncidentByIdLoader
from app.graphql.incidents.types import Incident
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.relay import parse_id
from app.graphql.risk.types import RiskFactor
from app.graphql.students.types import Student

_STAFF = roles_note(*STAFF)


@strawberry.input(
    description="Part of the school to follow: every key given must match. Empty: the whole "
    "school. Events of the whole school (a policy change) reach every scope."
)
class ScopeInput:
    year_group: int | None = limited(C.YearGroup, default=None)
    class_code: str | None = limited(C.ClassCode, default=None)
    student_id: strawberry.ID | None = limited(C.GlobalId, default=None)

    def to_scope(self) -> EventScope:
        return EventScope(
            year_group=self.year_group,
            class_code=self.class_code,
            student_id=(
                parse_id(self.student_id, "Student", "scope.studentId")
                if self.student_id is not None
                else None
            ),
        )


def scope_of(scope: ScopeInput | None) -> EventScope:
    return scope.to_scope() if scope is not None else EventScope()


# `shared` (private) is the delivery's dict: subscribers of one event with the same document
# share one execution of it (app.graphql.events.execution).
@strawberry.type(description="An incident was logged.")
class IncidentEvent:
    id: strawberry.ID = strawberry.field(description="The event's id: resume after it with since.")
    incident_id: strawberry.Private[uuid.UUID]
    shared: strawberry.Private[dict[Any, Any]]

    @strawberry.field(description="The incident (null if it is no longer visible).")
    async def incident(self, info: Info) -> Incident | None:
        row = await info.context.loaders.get(IncidentByIdLoader).load(self.incident_id)
        return Incident.from_model(row) if row is not None else None


@strawberry.type(description="Something in a student's record changed.")
class StudentEvent:
    id: strawberry.ID = strawberry.field(description="The event's id: resume after it with since.")
    topic: str = strawberry.field(description="What changed, e.g. incident.logged.")
    student_id: strawberry.Private[uuid.UUID]
    shared: strawberry.Private[dict[Any, Any]]

    @strawberry.field(description="The student as they are now.")
    async def student(self, info: Info) -> Student | None:
        return await Student.load(info, self.student_id)


@strawberry.type(description="A student's risk tier changed.")
class RiskEvent:
    id: strawberry.ID = strawberry.field(description="The event's id: resume after it with since.")
    previous_tier: int | None
    tier: int
    factors: list[RiskFactor] = strawberry.field(description="The factors that contributed.")
    student_id: strawberry.Private[uuid.UUID]
    shared: strawberry.Private[dict[Any, Any]]

    @strawberry.field(description="The student as they are now.")
    async def student(self, info: Info) -> Student | None:
        return await Student.load(info, self.student_id)


@strawberry.type(name="Event", description="An entry of the event log.")
class LogEvent:
    id: strawberry.ID = strawberry.field(description="The event's id: resume after it with since.")
    topic: str
    occurred_at: datetime
    payload: JSON = strawberry.field(description="Ids and facts of the change (no note text).")
    shared: strawberry.Private[dict[Any, Any]]


@strawberry.type
class IncidentCounts:
    positive: int
    negative: int
    neutral: int


@strawberry.type
class TierCount:
    tier: int
    count: int


@strawberry.type(
    description="A scope's figures now. Today and this week (from Monday) are the "
    "organisation's, in orgPolicy.timeZone."
)
class DashboardSnapshot:
    event_id: strawberry.ID | None = strawberry.field(
        description="The latest event the figures reflect (null: the log holds none)."
    )
    incidents_today: IncidentCounts = strawberry.field(description="Void incidents excluded.")
    house_points_today: int
    attendance_rate_today: float | None = strawberry.field(
        description="Present periods / scheduled periods today (null: none recorded)."
    )
    attendance_rate_week: float | None = strawberry.field(
        description="Present periods / scheduled periods since Monday (null: none recorded)."
    )
    students_by_tier: list[TierCount] = strawberry.field(
        permission_classes=[allow(*STAFF)], description=f"Risk tiers. {_STAFF}"
    )
    open_interventions: int = strawberry.field(description="PLANNED or ACTIVE.")
    shared: strawberry.Private[dict[Any, Any]]

    @classmethod
    def from_snapshot(cls, s: Snapshot) -> DashboardSnapshot:
        return cls(
            event_id=cast(strawberry.ID, s.event_id) if s.event_id is not None else None,
            incidents_today=IncidentCounts(
                positive=s.positive, negative=s.negative, neutral=s.neutral
            ),
            house_points_today=s.house_points,
            attendance_rate_today=s.attendance_rate_today,
            attendance_rate_week=s.attendance_rate_week,
            students_by_tier=[TierCount(tier=t, count=n) for t, n in s.students_by_tier.items()],
            open_interventions=s.open_interventions,
            shared={},
        )
