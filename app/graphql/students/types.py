from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import strawberry

from app.assessments import service as assessment_service
from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError
from app.core.pagination import check_first
from app.graphql.assessments.dataloaders import (
    AssessmentsByStudentLoader,
    LatestDiagnosticsByStudentLoader,
)
from app.graphql.assessments.types import Assessment, DiagnosticGrowth
from app.graphql.attendance.dataloaders import (
    AttendanceDaysByStudentLoader,
    AttendanceSummaryByStudentLoader,
)
from app.graphql.attendance.types import AttendanceDay, AttendanceSummary
from app.graphql.compiled.declarations import (
    ResolverOnly,
    RowType,
    Scalar,
    ToManyConnection,
    column,
    column_name,
    global_id,
    register,
)
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.cost import LIST_SIZE, PAGE_DEFAULT
from app.graphql.iep.dataloaders import IepGoalsByStudentLoader
from app.graphql.iep.types import IepGoal, IepGoalStatus
from app.graphql.incidents.dataloaders import IncidentsByStudentLoader, StrikeLevelByStudentLoader
from app.graphql.incidents.types import Incident
from app.graphql.interventions.dataloaders import InterventionsByStudentLoader
from app.graphql.interventions.types import Intervention
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
)
from app.graphql.risk.dataloaders import (
    RiskHistoryByStudentLoader,
    RiskTrajectoryByStudentLoader,
)
from app.graphql.risk.types import Risk, RiskTrajectory
from app.graphql.search.fields import resolve_similar_incidents
from app.graphql.students.dataloaders import StudentByIdLoader
from app.incidents.models import Incident as IncidentModel
from app.incidents.service import NEWEST_FIRST
from app.risk.trajectory import HORIZON_WEEKS
from app.students.models import Student as StudentModel

_STAFF_ONLY = [allow(*STAFF)]
FromDate = Annotated[date | None, limited_argument(C.SchoolDate, name="from")]
ToDate = Annotated[date | None, limited_argument(C.SchoolDate)]
PageSize = Annotated[int | None, limited_argument(C.PageSize)]
Cursor = Annotated[str | None, limited_argument(C.Cursor)]
_STAFF_NOTE = roles_note(*STAFF)
_INCIDENTS_PAGE = 10


# The fields' columns, declared once for both read paths (app.graphql.compiled.declarations):
# from_model takes its values from here, the compiler its SQL.
S, INC = StudentModel, IncidentModel

STUDENT = register(
    RowType(
        name="Student",
        table=S.__tablename__,
        fields={
            "id": global_id("Student"),
            "externalId": column(S.external_id, Scalar.STRING),
            "name": column(S.name, Scalar.STRING),
            "classCode": column(S.class_code, Scalar.STRING),
            "yearGroup": column(S.year_group, Scalar.INT),
            "campus": column(S.campus, Scalar.STRING),
            "housePoints": column(S.house_points, Scalar.INT),
            "riskTier": column(S.risk_tier, Scalar.INT),
            "createdAt": column(S.created_at, Scalar.DATETIME),
            "supportLevel": column(S.support_level, Scalar.INT, mirrors_resolver=True),
            "supportNotes": column(S.support_notes, Scalar.STRING, mirrors_resolver=True),
            "caseManager": column(S.case_manager, Scalar.STRING, mirrors_resolver=True),
            "incidents": ToManyConnection("Incident", column_name(INC.student_id), NEWEST_FIRST),
            "strikeLevel": ResolverOnly("the strike window comes from the org policy"),
            "risk": ResolverOnly("Risk.current shapes the factors in Python"),
            "riskHistory": ResolverOnly("risk history rows are shaped in Python"),
            "attendance": ResolverOnly("attendance days are shaped in Python"),
            "attendanceSummary": ResolverOnly("the attendance rules are Python (app.attendance)"),
            "assessments": ResolverOnly("assessments are shaped in Python"),
            "latestDiagnostics": ResolverOnly("assessments are shaped in Python"),
            "diagnosticGrowth": ResolverOnly("growth is computed by assessments.service.growth"),
            "interventions": ResolverOnly("interventions are shaped in Python"),
            "similarIncidents": ResolverOnly("search embeds and ranks in its own statement"),
            "iepGoals": ResolverOnly("IEP goals carry their progress, computed in Python"),
            "riskTrajectory": ResolverOnly("trends and projections are computed in Python"),
        },
    )
)


@strawberry.type(description="A student of the organisation.")
class Student(Node):
    model: strawberry.Private[StudentModel]
    external_id: str = strawberry.field(description="The SIS id, unique in the organisation.")
    name: str
    class_code: str | None
    year_group: int | None
    campus: str | None
    house_points: int
    risk_tier: int = strawberry.field(description="Current MTSS tier, 1-3.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: StudentModel) -> Student:
        return cls(model=row, **STUDENT.field_values(row, cls))

    @classmethod
    async def load(cls, info: Info, student_id: uuid.UUID) -> Student | None:
        row = await info.context.loaders.get(StudentByIdLoader).load(student_id)
        return cls.from_model(row) if row is not None else None

    @strawberry.field(permission_classes=_STAFF_ONLY, description=f"0-3. {_STAFF_NOTE}")
    def support_level(self) -> int | None:
        return self.model.support_level

    @strawberry.field(permission_classes=_STAFF_ONLY, description=_STAFF_NOTE)
    def support_notes(self) -> str | None:
        return self.model.support_notes

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"Who manages the student's IEP (printed on progress reports). {_STAFF_NOTE}",
    )
    def case_manager(self) -> str | None:
        return self.model.case_manager

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"The current risk picture with its factors. {_STAFF_NOTE}",
    )
    def risk(self) -> Risk | None:
        return Risk.current(self.model)

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"Past risk assessments, newest first (a row per change). {_STAFF_NOTE}",
    )
    async def risk_history(
        self, info: Info, first: Annotated[int, limited_argument(C.PageSize)] = 10
    ) -> list[Risk] | None:
        limit = check_first(first, info.context.settings.max_page_size)
        rows = await info.context.loaders.get(RiskHistoryByStudentLoader, limit).load(self.model.id)
        return [Risk.from_history(r) for r in rows]

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description="Where the risk is heading: each indicator's weekly series (attendance "
        "rate, negative incidents, latest placement) with its direction, and the tier "
        f"reached in {HORIZON_WEEKS} weeks if the trends continue. {_STAFF_NOTE}",
    )
    async def risk_trajectory(
        self, info: Info, weeks: Annotated[int, limited_argument(C.TrajectoryWeeks)] = 8
    ) -> RiskTrajectory | None:
        found = await info.context.loaders.get(RiskTrajectoryByStudentLoader, weeks).load(
            self.model.id
        )
        return RiskTrajectory.from_trajectory(found) if found is not None else None

    @strawberry.field(description="Strike of the latest negative incident in the strike window.")
    async def strike_level(self, info: Info) -> int:
        level: int = await info.context.loaders.get(StrikeLevelByStudentLoader).load(self.model.id)
        return level

    @strawberry.field(
        description=f"Incidents, newest first ({_INCIDENTS_PAGE} unless first or last says).",
        metadata={PAGE_DEFAULT: _INCIDENTS_PAGE},
    )
    async def incidents(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Incident]:
        request = page_from(info, first, after, last, before)
        page = await info.context.loaders.get(IncidentsByStudentLoader, request).load(self.model.id)
        return connection_from_page(page, Incident.from_model)

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"Newest first. {_STAFF_NOTE}",
        metadata={LIST_SIZE: 400},  # two school years of days, for the query cost
    )
    async def attendance(
        self,
        info: Info,
        from_: FromDate = None,
        to: ToDate = None,
    ) -> list[AttendanceDay] | None:
        rows = await info.context.loaders.get(AttendanceDaysByStudentLoader, from_, to).load(
            self.model.id
        )
        return [AttendanceDay.from_model(r) for r in rows]

    @strawberry.field(permission_classes=_STAFF_ONLY, description=_STAFF_NOTE)
    async def attendance_summary(
        self,
        info: Info,
        from_: FromDate = None,
        to: ToDate = None,
    ) -> AttendanceSummary | None:
        summary = await info.context.loaders.get(AttendanceSummaryByStudentLoader, from_, to).load(
            self.model.id
        )
        return AttendanceSummary.from_summary(summary)

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"Newest first. {_STAFF_NOTE}",
        metadata={LIST_SIZE: 100},
    )
    async def assessments(
        self, info: Info, subject: Annotated[str | None, limited_argument(C.Subject)] = None
    ) -> list[Assessment] | None:
        rows = await info.context.loaders.get(AssessmentsByStudentLoader, subject).load(
            self.model.id
        )
        return [Assessment.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"The latest diagnostic in each subject. {_STAFF_NOTE}",
    )
    async def latest_diagnostics(self, info: Info) -> list[Assessment] | None:
        rows = await info.context.loaders.get(LatestDiagnosticsByStudentLoader).load(self.model.id)
        return [Assessment.from_model(r) for r in rows]

    @strawberry.field(
        permission_classes=_STAFF_ONLY,
        description=f"Per subject and year, first to latest diagnostic. {_STAFF_NOTE}",
    )
    async def diagnostic_growth(self, info: Info) -> list[DiagnosticGrowth] | None:
        rows = await info.context.loaders.get(AssessmentsByStudentLoader, None).load(self.model.id)
        return [DiagnosticGrowth.from_growth(g) for g in assessment_service.growth(rows)]

    @strawberry.field(permission_classes=_STAFF_ONLY, description=_STAFF_NOTE)
    async def interventions(self, info: Info) -> list[Intervention] | None:
        rows = await info.context.loaders.get(InterventionsByStudentLoader).load(self.model.id)
        return [Intervention.from_model(r) for r in rows]

    @strawberry.field(
        description="IEP goals, soonest due first. Every role; aides read each goal's title only.",
    )
    async def iep_goals(
        self,
        info: Info,
        status: IepGoalStatus | None = None,  # type: ignore[valid-type]
    ) -> list[IepGoal]:
        if status is not None and info.context.actor.role not in STAFF:
            # A goal's status is not an aide's to read, filtered or not.
            raise ServiceError.single(
                "status", f"filtering by status: {_STAFF_NOTE}", ErrorCode.FORBIDDEN
            )
        rows = await info.context.loaders.get(IepGoalsByStudentLoader, status).load(self.model.id)
        return [IepGoal.from_model(r) for r in rows]

    similar_incidents = strawberry.field(
        resolver=resolve_similar_incidents,
        description="Other students' incidents that read most like this student's incident "
        "notes: the patterns this record shares with others' (search's index).",
    )
