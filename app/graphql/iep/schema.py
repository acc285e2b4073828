"""Writing IEP goals and probes (TEACHER and ADMIN)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.iep.types import IepGoal, IepGoalDirection, IepGoalStatus, IepProbe
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import TEACHING, allow, roles_note
from app.graphql.relay import from_global_id, parse_id
from app.iep import flows, service
from app.iep.models import IepGoal as IepGoalModel


@strawberry.input
class CreateIepGoalInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    area: str = limited(C.Label, description="e.g. Reading fluency, Behaviour.")
    title: str = limited(C.GoalTitle, description="The goal's statement, as the IEP words it.")
    baseline: float = limited(C.GoalValue, description="Where the student starts.")
    target: float = limited(C.GoalValue, description="Where the goal ends; not the baseline.")
    unit: str = limited(C.Unit, description="e.g. words correct a minute, % of intervals.")
    direction: IepGoalDirection = strawberry.field(  # type: ignore[valid-type]
        description="INCREASE: the target is above the baseline; DECREASE: below."
    )
    due_date: date = limited(C.SchoolDate, description="After startDate.")
    start_date: date | None = limited(C.SchoolDate, default=None, description="Default: today.")


@strawberry.input(description="Only the values given change.")
class UpdateIepGoalInput:
    id: strawberry.ID = limited(C.GlobalId)
    area: str | None = limited(C.Label, default=None)
    title: str | None = limited(C.GoalTitle, default=None)
    baseline: float | None = limited(C.GoalValue, default=None)
    target: float | None = limited(C.GoalValue, default=None)
    unit: str | None = limited(C.Unit, default=None)
    direction: IepGoalDirection | None = None  # type: ignore[valid-type]
    start_date: date | None = limited(C.SchoolDate, default=None)
    due_date: date | None = limited(C.SchoolDate, default=None)
    status: IepGoalStatus | None = None  # type: ignore[valid-type]


@strawberry.input
class RecordIepProbeInput:
    goal_id: strawberry.ID = limited(C.GlobalId)
    value: float = limited(C.GoalValue, description="In the goal's unit.")
    taken_at: datetime | None = limited(
        C.Instant, default=None, description="When it was measured. Default: now."
    )
    note: str | None = limited(C.Note, default=None)


@strawberry.input
class RecordIepProbesInput:
    probes: list[RecordIepProbeInput] = limited(C.ProbeBatch)


@strawberry.type
class IepGoalPayload:
    goal: IepGoal | None
    errors: list[UserError]


@strawberry.type
class RecordIepProbePayload:
    probe: IepProbe | None
    errors: list[UserError]


@strawberry.type
class RecordIepProbesPayload:
    probes: list[IepProbe]
    errors: list[UserError]


def _changes(i: CreateIepGoalInput | UpdateIepGoalInput) -> service.GoalChanges:
    return service.GoalChanges(
        area=i.area,
        title=i.title,
        baseline=i.baseline,
        target=i.target,
        unit=i.unit,
        direction=i.direction,
        start_date=i.start_date,
        due_date=i.due_date,
        status=getattr(i, "status", None),
    )


def _goal_payload(result: IepGoalModel | Refused) -> IepGoalPayload:
    if isinstance(result, Refused):
        return IepGoalPayload(goal=None, errors=result.errors)
    return IepGoalPayload(goal=IepGoal.from_model(result), errors=[])


def _probes(items: list[RecordIepProbeInput], now: datetime) -> list[service.ProbeData]:
    return [
        service.ProbeData(
            goal_id=parsed[1]
            if (parsed := from_global_id(item.goal_id)) and parsed[0] == "IepGoal"
            else None,
            taken_at=item.taken_at or now,
            value=item.value,
            note=item.note,
        )
        for item in items
    ]


_PROBES_NOTE = (
    "A probe of a goal at an instant already recorded replaces that one (sending a batch "
    "twice records each probe once). The student's risk is recomputed: a goal off track for "
    "the org's risk.iepOffTrackProbes probes in a row is the factor IEP_PROGRESS. "
)


@strawberry.type
class IepMutations:
    @strawberry.mutation(permission_classes=[allow(*TEACHING)], description=roles_note(*TEACHING))
    async def create_iep_goal(self, info: Info, input: CreateIepGoalInput) -> IepGoalPayload:
        return _goal_payload(
            await in_transaction(
                info,
                lambda s, actor: service.create_goal(
                    s,
                    actor=actor,
                    student_id=parse_id(input.student_id, "Student", "studentId"),
                    changes=_changes(input),
                ),
            )
        )

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Change a goal's terms or status; the student's risk follows. "
        + roles_note(*TEACHING),
    )
    async def update_iep_goal(self, info: Info, input: UpdateIepGoalInput) -> IepGoalPayload:
        return _goal_payload(
            await in_transaction(
                info,
                lambda s, actor: flows.update_goal(
                    s,
                    actor=actor,
                    goal_id=parse_id(input.id, "IepGoal", "id"),
                    changes=_changes(input),
                ),
            )
        )

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)], description=_PROBES_NOTE + roles_note(*TEACHING)
    )
    async def record_iep_probe(
        self, info: Info, input: RecordIepProbeInput
    ) -> RecordIepProbePayload:
        now = datetime.now().astimezone()
        result = await in_transaction(
            info,
            lambda s, actor: flows.record_probes(
                s, actor=actor, probes=_probes([input], now), now=now
            ),
        )
        if isinstance(result, Refused):
            for error in result.errors:  # one probe: its errors name plain fields
                if error.field and error.field.startswith("probes[0]."):
                    error.field = error.field.removeprefix("probes[0].")
            return RecordIepProbePayload(probe=None, errors=result.errors)
        return RecordIepProbePayload(probe=IepProbe.from_model(result[0]), errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Record many probes (of one student's goals or a whole group's), all or "
        "none: errors name the item, e.g. probes[3].value. " + _PROBES_NOTE + roles_note(*TEACHING),
    )
    async def record_iep_probes(
        self, info: Info, input: RecordIepProbesInput
    ) -> RecordIepProbesPayload:
        now = datetime.now().astimezone()
        result = await in_transaction(
            info,
            lambda s, actor: flows.record_probes(
                s, actor=actor, probes=_probes(input.probes, now), now=now
            ),
        )
        if isinstance(result, Refused):
            return RecordIepProbesPayload(probes=[], errors=result.errors)
        return RecordIepProbesPayload(probes=[IepProbe.from_model(p) for p in result], errors=[])
