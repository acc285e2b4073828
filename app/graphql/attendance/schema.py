"""Attendance: recording days, the org's code table."""

from __future__ import annotations

from datetime import date

import strawberry

from app.attendance import flows, service
from app.core import contracts as C
from app.graphql.attendance.types import AttendanceCategory, AttendanceCode, AttendanceDay
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import ALL_ROLES, STAFF, allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import parse_id
from app.orgs.models import Role


@strawberry.input
class PeriodCodeInput:
    period: int = limited(C.Periods)
    code: str = limited(C.Code)


@strawberry.input
class AttendanceDayInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    day: date = limited(
        C.SchoolDate, description="Within the org's school-year window, not in the future."
    )
    scheduled_periods: int = limited(C.Periods, default=6)
    all_day_code: str | None = limited(C.Code, default=None)
    period_codes: list[PeriodCodeInput] = limited(C.PeriodList, default_factory=list)


@strawberry.input
class RecordAttendanceInput:
    days: list[AttendanceDayInput] = limited(C.DayBatch)


@strawberry.type
class RecordAttendancePayload:
    days: list[AttendanceDay]
    errors: list[UserError]


@strawberry.input
class SetAttendanceCodeInput:
    code: str = limited(C.Code)
    category: AttendanceCategory  # type: ignore[valid-type]
    description: str | None = limited(C.Description, default=None)


@strawberry.type
class SetAttendanceCodePayload:
    code: AttendanceCode | None
    errors: list[UserError]


def _to_day(i: int, d: AttendanceDayInput) -> service.DayInput:
    # A batch of one too: the path names the input as sent. The periods stay a list, so that
    # the service's errors name periodCodes[j] (a period given twice among them).
    return service.DayInput(
        student_id=parse_id(d.student_id, "Student", f"days[{i}].studentId"),
        day=d.day,
        scheduled_periods=d.scheduled_periods,
        all_day_code=d.all_day_code,
        period_codes=[(p.period, p.code) for p in d.period_codes],
    )


@strawberry.type
class AttendanceQueries:
    @strawberry.field(permission_classes=[allow(*ALL_ROLES)])
    async def attendance_codes(self, info: Info) -> list[AttendanceCode]:
        rows = await read(info, lambda s: service.list_codes(s, org_id=info.context.actor.org_id))
        return [AttendanceCode.from_model(r) for r in rows]


@strawberry.type
class AttendanceMutations:
    @strawberry.mutation(
        permission_classes=[allow(*STAFF)],
        description="Record (or replace) students' days; a period with no code is present. "
        "Days from the start of the school year (see orgPolicy.attendance) up to today in the "
        "org's time zone; errors name days[i].<field>. " + roles_note(*STAFF),
    )
    async def record_attendance(
        self, info: Info, input: RecordAttendanceInput
    ) -> RecordAttendancePayload:
        result = await in_transaction(
            info,
            lambda s, actor: flows.record_days(
                s, actor=actor, days=[_to_day(i, d) for i, d in enumerate(input.days)]
            ),
        )
        if isinstance(result, Refused):
            return RecordAttendancePayload(days=[], errors=result.errors)
        return RecordAttendancePayload(
            days=[AttendanceDay.from_model(r) for r in result], errors=[]
        )

    @strawberry.mutation(
        permission_classes=[allow(Role.ADMIN)],
        description="Define or change what an attendance code means. Roles: ADMIN.",
    )
    async def set_attendance_code(
        self, info: Info, input: SetAttendanceCodeInput
    ) -> SetAttendanceCodePayload:
        result = await in_transaction(
            info,
            lambda s, actor: service.set_code(
                s,
                actor=actor,
                code=input.code,
                category=input.category,
                description=input.description,
            ),
        )
        if isinstance(result, Refused):
            return SetAttendanceCodePayload(code=None, errors=result.errors)
        return SetAttendanceCodePayload(code=AttendanceCode.from_model(result), errors=[])
