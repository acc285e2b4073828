from __future__ import annotations

from datetime import date

import strawberry

from app.attendance import service
from app.attendance.models import AttendanceCategory as _Category
from app.attendance.models import AttendanceCode as AttendanceCodeModel
from app.attendance.models import AttendanceDay as AttendanceDayModel
from app.attendance.models import DailyStatus as _DailyStatus
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


@strawberry.type(description="Attendance over a range of school days.")
class AttendanceSummary:
    start: date | None
    end: date | None
    days_enrolled: int
    days_present: float
    days_absent: float
    rate: float | None = strawberry.field(description="Present periods / scheduled periods.")
    absence_percent: float | None
    chronic_absence_band: str | None = strawberry.field(
        description="SATISFACTORY (<5%), AT_RISK (5-9.9%), MODERATE (10-19.9%), SEVERE (20%+)."
    )
    excused_absences: int
    unexcused_absences: int
    tardies: int
    suspensions: int
    truancies: int

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
            chronic_absence_band=s.chronic_band,
            excused_absences=s.excused_absences,
            unexcused_absences=s.unexcused_absences,
            tardies=s.tardies,
            suspensions=s.suspensions,
            truancies=s.truancies,
        )


@strawberry.type(description="A district attendance code and what it means.")
class AttendanceCode:
    code: str
    category: AttendanceCategory  # type: ignore[valid-type]
    description: str | None

    @classmethod
    def from_model(cls, row: AttendanceCodeModel) -> AttendanceCode:
        return cls(code=row.code, category=row.category, description=row.description)
