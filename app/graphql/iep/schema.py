"""Writing IEP goals and probes (TEACHER and ADMIN)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.iep.types import (
    IepGoal,
    IepGoalDirection,
    IepGoalStatus,
    IepNarrative,
    IepProbe,
)
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import TEACHING, allow, roles_note
from app.graphql.records.schema import GeneratedFilePayload, queue_file
from app.graphql.records.types import GeneratedFile
from app.graphql.relay import from_global_id, parse_id
from app.iep import flows, reports, service
from app.iep.models import IepGoal as IepGoalModel
from app.iep.reports import ReportFormat
from app.records.models import GeneratedFile as GeneratedFileModel


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


IepReportFormat = strawberry.enum(ReportFormat, name="IepReportFormat")


@strawberry.input
class IepProgressReportInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    period_start: date = limited(C.SchoolDate, description="The reporting period's first day.")
    period_end: date = limited(
        C.SchoolDate, description="Its last day (at most 400 days after periodStart)."
    )
    format: IepReportFormat  # type: ignore[valid-type]


@strawberry.input(description="A class (its students now) or a list of students: one of them.")
class IepProgressReportsInput:
    class_code: str | None = limited(C.ClassCode, default=None)
    student_ids: list[strawberry.ID] | None = limited(C.StudentIdList, default=None)
    period_start: date = limited(C.SchoolDate)
    period_end: date = limited(C.SchoolDate)
    format: IepReportFormat  # type: ignore[valid-type]


@strawberry.input
class SetIepGoalNarrativeInput:
    goal_id: strawberry.ID = limited(C.GlobalId)
    period_start: date = limited(C.SchoolDate)
    period_end: date = limited(C.SchoolDate)
    text: str = limited(C.Narrative, description="Printed under the goal in that period's report.")


@strawberry.type
class IepNarrativePayload:
    narrative: IepNarrative | None
    errors: list[UserError]


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

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="The comment printed under a goal in one period's progress report "
        "(written, or replaced). Audited. " + roles_note(*TEACHING),
    )
    async def set_iep_goal_narrative(
        self, info: Info, input: SetIepGoalNarrativeInput
    ) -> IepNarrativePayload:
        result = await in_transaction(
            info,
            lambda s, actor: service.set_narrative(
                s,
                actor=actor,
                goal_id=parse_id(input.goal_id, "IepGoal", "goalId"),
                period_start=input.period_start,
                period_end=input.period_end,
                text=input.text,
            ),
        )
        if isinstance(result, Refused):
            return IepNarrativePayload(narrative=None, errors=result.errors)
        return IepNarrativePayload(narrative=IepNarrative.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="One student's IEP progress report for a period, as PDF or DOCX, made by "
        "a job: every goal active in the period with its probes, a chart, the latest value, "
        "percent to target, progress code and narrative. Poll generatedFile until READY, "
        "then GET its downloadUrl with your token (or an ADMIN's). Audited. "
        + roles_note(*TEACHING),
    )
    async def iep_progress_report(
        self, info: Info, input: IepProgressReportInput
    ) -> GeneratedFilePayload:
        return await _report(
            info,
            lambda s, actor: reports.request(
                s,
                actor=actor,
                student_ids=[parse_id(input.student_id, "Student", "studentId")],
                class_code=None,
                period_start=input.period_start,
                period_end=input.period_end,
                fmt=input.format,
                caseload=False,
            ),
        )

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="The progress reports of a caseload (a class, or students by id) as one "
        "ZIP: a file per student with a goal active in the period, and summary.csv "
        "(student, goal, code, latest, percent). Progress is published as `file.progress` "
        "events (the events subscription). " + roles_note(*TEACHING),
    )
    async def iep_progress_reports(
        self, info: Info, input: IepProgressReportsInput
    ) -> GeneratedFilePayload:
        return await _report(
            info,
            lambda s, actor: reports.request(
                s,
                actor=actor,
                student_ids=None
                if input.student_ids is None
                else [
                    parse_id(sid, "Student", f"studentIds[{i}]")
                    for i, sid in enumerate(input.student_ids)
                ],
                class_code=input.class_code,
                period_start=input.period_start,
                period_end=input.period_end,
                fmt=input.format,
                caseload=True,
            ),
        )


async def _report(
    info: Info, work: Callable[[AsyncSession, Principal], Awaitable[GeneratedFileModel]]
) -> GeneratedFilePayload:
    result = await in_transaction(info, work)
    if isinstance(result, Refused):
        return GeneratedFilePayload(file=None, errors=result.errors)
    await queue_file(info, result)
    return GeneratedFilePayload(file=GeneratedFile.from_model(result), errors=[])
