"""Student queries and mutations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import contracts as C
from app.core.pagination import Page
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import ALL_ROLES, STAFF, TEACHING, allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection_from_page,
    from_global_id,
    page_from,
    parse_id,
)
from app.graphql.students.inputs import (
    StudentFilter,
    UpdateStudentSupportInput,
    UpsertStudentInput,
    given,
)
from app.graphql.students.types import Student
from app.orgs import service as orgs
from app.risk import trajectory
from app.students import flows, service
from app.students.models import Student as StudentModel
from app.students.service import RISK_ORDER
from app.students.service import StudentFilter as StudentFilterData

PROJECTION_WEEKS = 8  # the weeks of trend atRiskStudents(projected: true) reads


@strawberry.type
class StudentQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="Students ordered by name. " + roles_note(*ALL_ROLES),
    )
    async def students(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: StudentFilter | None = None,
    ) -> Connection[Student]:
        request = page_from(info, first, after, last, before)
        flt = filter.to_data() if filter else None
        page = await read(
            info,
            lambda s: service.list_page(s, org_id=info.context.actor.org_id, flt=flt, page=request),
        )
        return connection_from_page(page, Student.from_model)

    @strawberry.field(permission_classes=[allow(*ALL_ROLES)])
    async def student(
        self, info: Info, id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> Student | None:
        parsed = from_global_id(id)
        if parsed is None or parsed[0] != "Student":
            return None
        return await Student.load(info, parsed[1])

    @strawberry.field(
        permission_classes=[allow(*STAFF)],
        description="Students at or above a tier, highest tier first. With projected: true, "
        "the students heading into minTier or above before they get there: projected "
        f"(Student.riskTrajectory over {PROJECTION_WEEKS} weeks) at or above minTier and above "
        "their current tier; riskTrajectory says which indicator drives each. "
        + roles_note(*STAFF),
    )
    async def at_risk_students(
        self,
        info: Info,
        min_tier: Annotated[int, limited_argument(C.Tier)] = 2,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        projected: bool = False,
    ) -> Connection[Student]:
        request = page_from(info, first, after, last, before)
        org_id = info.context.actor.org_id

        async def work(s: AsyncSession) -> Page[StudentModel]:
            flt: StudentFilterData | None = StudentFilterData(min_risk_tier=min_tier)
            heading = None
            if projected:
                policy = await orgs.get_policy(s, org_id=org_id)
                heading = await trajectory.heading_into(
                    s,
                    org_id=org_id,
                    min_tier=min_tier,
                    weeks=PROJECTION_WEEKS,
                    policy=policy,
                    now=datetime.now(UTC),
                )
                flt = None  # projected above their tier, whatever it is now
            return await service.list_page(
                s, org_id=org_id, flt=flt, page=request, order=RISK_ORDER, ids=heading
            )

        page = await read(info, work)
        return connection_from_page(page, Student.from_model)


@strawberry.type
class StudentPayload:
    student: Student | None
    errors: list[UserError]
    created: bool = False


@strawberry.type
class StudentMutations:
    @strawberry.mutation(
        permission_classes=[allow(*STAFF)],
        description="Create or update a student by external SIS id, race-free: concurrent "
        "upserts of one id make one student. Fields left out keep their value; null clears "
        "one. supportLevel and supportNotes may be given only by ADMIN and TEACHER. "
        + roles_note(*STAFF),
    )
    async def upsert_student(self, info: Info, input: UpsertStudentInput) -> StudentPayload:
        result = await in_transaction(
            info, lambda s, actor: flows.upsert_student(s, actor=actor, data=input.to_data())
        )
        if isinstance(result, Refused):
            return StudentPayload(student=None, errors=result.errors)
        student, created = result
        return StudentPayload(student=Student.from_model(student), errors=[], created=created)

    @strawberry.mutation(
        permission_classes=[allow(*TEACHING)],
        description="Change a student's support level, notes or IEP case manager. "
        + roles_note(*TEACHING),
    )
    async def update_student_support(
        self, info: Info, input: UpdateStudentSupportInput
    ) -> StudentPayload:
        result = await in_transaction(
            info,
            lambda s, actor: service.update_support(
                s,
                actor=actor,
                student_id=parse_id(input.student_id, "Student", "studentId"),
                support_level=given(input.support_level),
                support_notes=given(input.support_notes),
                case_manager=given(input.case_manager),
            ),
        )
        if isinstance(result, Refused):
            return StudentPayload(student=None, errors=result.errors)
        return StudentPayload(student=Student.from_model(result), errors=[])
