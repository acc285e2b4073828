from __future__ import annotations

from datetime import date

import strawberry

from app.attendance import service
from app.attendance.models import AttendanceCategory as _Category
from app.attendance.models import AttendanceCode as AttendanceCodeModel
from app.attendance.models import AttendanceDay as AttendanceDayModel
from app.attendance.models import DailyStatus as _DailyStatus
from app.graphql.context import Info
from app.graphql.orgs.dataloaders import OrgPolicyByOrgLoader
from app.graphql.relay import Node, to_global_id

AttendanceCategory = strawberry.enum(_Category, name="AttendanceCategory")
DailyStatus = strawberry.enum(_DailyStatus, name="DailyStatus")


@strawberry.type
class PeriodCode:
    period: int
    code: str


@strawberry.type(description="One student's attendance on one school day.")
class AttendanceDay(Node):
    day: date
    all_day_code: str | None
    period_codes: list[PeriodCode]
    scheduled_periods: int
    present_periods: int
    daily_status: DailyStatus  # type: ignore[valid-type]
    percentage: float = strawberry.field(description="Present periods / scheduled periods, 0..1.")

    @classmethod
    def from_model(cls, row: AttendanceDayModel) -> AttendanceDay:
        return cls(
            id=to_global_id("AttendanceDay", row.id),
            day=row.day,
            all_day_code=row.all_day_code,
            period_codes=[
                PeriodCode(period=int(p), code=c)
                for p, c in sorted(row.period_codes.items(), key=lambda kv: int(kv[0]))
            ],
            scheduled_periods=row.scheduled_periods,
            present_periods=row.present_periods,
            daily_status=row.daily_status,
            percentage=float(row.percentage),
        )


_DAYS = "Days carrying {} (an all-day code or any period); a day may count in several."
_PERIODS = "Periods carrying {} (an all-day absence code: every scheduled period)."


@strawberry.type(
    description="Attendance over a range of school days. A day counts toward every category "
    "its codes carry: an A period and a T period make one unexcused absence and one tardy."
)
class AttendanceSummary:
    start: date | None
    end: date | None
    days_enrolled: int
    days_present: float
    days_absent: float
    rate: float | None = strawberry.field(description="Present periods / scheduled periods.")
    absence_percent: float | None
    excused_absences: int = strawberry.field(description=_DAYS.format("an excused absence"))
    unexcused_absences: int = strawberry.field(description=_DAYS.format("an unexcused absence"))
    tardies: int = strawberry.field(description=_DAYS.format("a tardy"))
    suspensions: int = strawberry.field(description=_DAYS.format("a suspension"))
    truancies: int = strawberry.field(description=_DAYS.format("truancy"))
    excused_periods: int = strawberry.field(description=_PERIODS.format("an excused absence"))
    unexcused_periods: int = strawberry.field(description=_PERIODS.format("an unexcused absence"))
    tardy_periods: int = strawberry.field(
        description="Periods coded tardy (an all-day tardy code with none: one)."
    )
    suspension_periods: int = strawberry.field(description=_PERIODS.format("a suspension"))
    truancy_periods: int = strawberry.field(description=_PERIODS.format("truancy"))
    summary: strawberry.Private[service.AttendanceSummary]

    @strawberry.field(
        description="INSUFFICIENT_DATA under the org's risk.minEnrolledDays recorded days; "
        "then SATISFACTORY (<5%), AT_RISK (5% to risk.chronicAbsencePct), MODERATE (chronic, to "
        "risk.severeAbsencePct), SEVERE; null with no day recorded."
    )
    async def chronic_absence_band(self, info: Info) -> str | None:
        org_id = info.context.actor.org_id
        policy = await info.context.loaders.get(OrgPolicyByOrgLoader).load(org_id)
        band = self.summary.band(policy.risk)
        return None if band is None else band.value

    @classmethod
    def from_summary(cls, s: service.AttendanceSummary) -> AttendanceSummary:
        return cls(
            start=s.start,
            end=s.end,
            days_enrolled=s.days_enrolled,
            days_present=s.days_present,
            days_absent=s.days_absent,
            rate=s.rate,
            absence_percent=s.absence_pct,
            excused_absences=s.excused_absences,
            unexcused_absences=s.unexcused_absences,
            tardies=s.tardies,
            suspensions=s.suspensions,
            truancies=s.truancies,
            excused_periods=s.excused_periods,
            unexcused_periods=s.unexcused_periods,
            tardy_periods=s.tardy_periods,
            suspension_periods=s.suspension_periods,
            truancy_periods=s.truancy_periods,
            summary=s,
        )


@strawberry.type(description="A district attendance code and what it means.")
class AttendanceCode:
    code: str
    category: AttendanceCategory  # type: ignore[valid-type]
    description: str | None

    @classmethod
    def from_model(cls, row: AttendanceCodeModel) -> AttendanceCode:
        return cls(code=row.code, category=row.category, description=row.description)
