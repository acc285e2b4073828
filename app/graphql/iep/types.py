"""IEP goals and probes. Teachers, admins and integrations read everything; aides read a
goal's title only (its other fields are null for them, with a permission error)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from app.graphql.context import Info
from app.graphql.iep.dataloaders import (
    IepGoalByIdLoader,
    IepNarrativesByGoalLoader,
    IepProbesByGoalLoader,
    IepProgressByGoalLoader,
)
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    connection_from_page,
    page_from,
    to_global_id,
)
from app.graphql.students.fields import resolve_student
from app.iep.models import GoalDirection as _Direction
from app.iep.models import GoalStatus as _Status
from app.iep.models import IepGoal as IepGoalModel
from app.iep.models import IepNarrative as IepNarrativeModel
from app.iep.models import IepProbe as IepProbeModel
from app.iep.progress import CODE_MEANINGS
from app.iep.progress import Progress as ProgressData
from app.iep.progress import ProgressCode as _Code

IepGoalDirection = strawberry.enum(_Direction, name="IepGoalDirection")
IepGoalStatus = strawberry.enum(_Status, name="IepGoalStatus")
IepProgressCode = strawberry.enum(
    _Code,
    name="IepProgressCode",
    description="What a progress report prints for a goal: "
    + " ".join(f"{code.value}: {meaning}" for code, meaning in CODE_MEANINGS.items()),
)

_STAFF = [allow(*STAFF)]
_NOTE = roles_note(*STAFF)


@strawberry.type(description="One measurement toward an IEP goal.")
class IepProbe(Node):
    model: strawberry.Private[IepProbeModel]
    taken_at: datetime
    value: float
    note: str | None

    @classmethod
    def from_model(cls, row: IepProbeModel) -> IepProbe:
        return cls(
            model=row,
            id=to_global_id("IepProbe", row.id),
            taken_at=row.taken_at,
            value=float(row.value),
            note=row.note,
        )

    @strawberry.field
    async def goal(self, info: Info) -> IepGoal | None:
        row = await info.context.loaders.get(IepGoalByIdLoader).load(self.model.goal_id)
        return IepGoal.from_model(row) if row is not None else None


@strawberry.type(description="The teacher's comment on a goal for one reporting period.")
class IepNarrative:
    period_start: date
    period_end: date
    text: str
    written_by: str
    updated_at: datetime

    @classmethod
    def from_model(cls, row: IepNarrativeModel) -> IepNarrative:
        return cls(
            period_start=row.period_start,
            period_end=row.period_end,
            text=row.text,
            written_by=row.written_by,
            updated_at=row.updated_at,
        )


@strawberry.type(
    description="A goal's progress (the one rule of app.iep.progress, which progress reports "
    "print too)."
)
class IepProgress:
    latest: float | None = strawberry.field(description="The latest probe's value.")
    latest_at: datetime | None
    percent_to_target: float | None = strawberry.field(
        description="How far the latest probe is from the baseline toward the target: 0 at "
        "the baseline, 100 at the target, below 0 for a move away from it."
    )
    trend: float | None = strawberry.field(
        description="Least-squares slope of the last 6 probes, in the goal's unit per week; "
        "null with fewer than 3 probes (or all on one day)."
    )
    needed_trend: float | None = strawberry.field(
        description="The slope per week still needed to reach the target by the due date "
        "from the latest probe (null once met or past due)."
    )
    on_track: bool | None = strawberry.field(
        description="Met, or trend at least neededTrend in the goal's direction. Null with "
        "too few probes to tell; false past the due date unmet."
    )
    code: IepProgressCode  # type: ignore[valid-type]
    code_meaning: str
    probes_used: int = strawberry.field(description="Probes the trend was computed on.")

    @classmethod
    def from_progress(cls, p: ProgressData) -> IepProgress:
        return cls(
            latest=p.latest,
            latest_at=p.latest_at,
            percent_to_target=p.percent_to_target,
            trend=p.trend,
            needed_trend=p.needed_trend,
            on_track=p.on_track,
            code=p.code,
            code_meaning=CODE_MEANINGS[p.code],
            probes_used=p.probes_used,
        )


@strawberry.type(description="An annual IEP goal: from baseline to target by the due date.")
class IepGoal(Node):
    model: strawberry.Private[IepGoalModel]
    title: str = strawberry.field(description="The goal's statement. Every role.")

    @classmethod
    def from_model(cls, row: IepGoalModel) -> IepGoal:
        return cls(model=row, id=to_global_id("IepGoal", row.id), title=row.title)

    student = strawberry.field(resolver=resolve_student)

    @strawberry.field(permission_classes=_STAFF, description=f"e.g. Reading, Behaviour. {_NOTE}")
    def area(self) -> str | None:
        return self.model.area

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def baseline(self) -> float | None:
        return float(self.model.baseline)

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def target(self) -> float | None:
        return float(self.model.target)

    @strawberry.field(
        permission_classes=_STAFF, description=f"e.g. words correct a minute. {_NOTE}"
    )
    def unit(self) -> str | None:
        return self.model.unit

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def direction(self) -> IepGoalDirection | None:  # type: ignore[valid-type]
        return self.model.direction

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def start_date(self) -> date | None:
        return self.model.start_date

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def due_date(self) -> date | None:
        return self.model.due_date

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    def status(self) -> IepGoalStatus | None:  # type: ignore[valid-type]
        return self.model.status

    @strawberry.field(
        permission_classes=_STAFF,
        description=f"Probes in a row (the latest ones) that found the goal off track. {_NOTE}",
    )
    def off_track_probes(self) -> int | None:
        return self.model.off_track_streak

    @strawberry.field(permission_classes=_STAFF, description=f"Newest first. {_NOTE}")
    async def probes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[IepProbe] | None:
        request = page_from(info, first, after, last, before)
        page = await info.context.loaders.get(IepProbesByGoalLoader, request).load(self.model.id)
        return connection_from_page(page, IepProbe.from_model)

    @strawberry.field(
        permission_classes=_STAFF,
        description=f"The narratives written for progress reports, latest period first. {_NOTE}",
    )
    async def narratives(self, info: Info) -> list[IepNarrative] | None:
        rows = await info.context.loaders.get(IepNarrativesByGoalLoader).load(self.model.id)
        return [IepNarrative.from_model(r) for r in rows]

    @strawberry.field(permission_classes=_STAFF, description=_NOTE)
    async def progress(self, info: Info) -> IepProgress | None:
        found = await info.context.loaders.get(IepProgressByGoalLoader).load(self.model)
        return IepProgress.from_progress(found)
