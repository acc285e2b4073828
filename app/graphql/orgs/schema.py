"""The org's policy: the strike ladder, risk thresholds, house points, attendance calendar and
time zone (ADMIN changes it)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import strawberry

from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.queries import read
from app.orgs import flows, service
from app.orgs import policy as domain
from app.orgs.models import Role


@strawberry.type
class StrikeRung:
    strike: int
    consequence: str
    admin_notified: bool
    hod_consulted: bool


@strawberry.type(
    description="strike = min(negatives in the window // negativesPerStrike + 1, maxStrike)"
)
class StrikePolicy:
    window_hours: int
    negatives_per_strike: int
    max_strike: int
    rungs: list[StrikeRung]


@strawberry.type
class RiskThresholds:
    behaviour_window_days: int
    behaviour_negatives: int
    strike_level: int
    attendance_window_days: int
    chronic_absence_pct: float
    severe_absence_pct: float
    grade_levels_below: int
    min_enrolled_days: int = strawberry.field(
        description="With fewer recorded school days (in the window, or a summary's range) the "
        "chronic-absence band is INSUFFICIENT_DATA and attendance adds no risk."
    )
    iep_off_track_probes: int = strawberry.field(
        description="An active IEP goal found off track by this many probes in a row is the "
        "risk factor IEP_PROGRESS."
    )


@strawberry.type(
    description="Days may be recorded from the start of the current school year up to today "
    "(in the org's time zone); for the first correctionGraceDays days of a school year, days "
    "of the previous school year too."
)
class AttendancePolicy:
    school_year_start: str = strawberry.field(description="MM-DD, e.g. 08-01 (1 August).")
    correction_grace_days: int


@strawberry.type
class HousePointsPolicy:
    positive: int
    negative: int
    neutral: int


@strawberry.type(
    description="How long the school keeps each kind of record; null keeps it without limit. "
    "A daily job deletes what is older, in batches, and audits the counts "
    "(`schoolgraph retention --dry-run` shows what would go)."
)
class RetentionPolicy:
    incidents_years: int | None = strawberry.field(
        description="Incidents (with their search documents) older than this many years."
    )
    attendance_years: int | None = strawberry.field(
        description="Attendance days older than this many years."
    )
    audit_years: int | None = strawberry.field(
        description="Audit log entries older than this many years."
    )
    events_days: int | None = strawberry.field(
        description="Events (the live dashboards' log) older than this many days; the "
        "server's EVENT_RETENTION_DAYS applies as well, whichever is shorter."
    )


@strawberry.type
class OrgPolicy:
    strikes: StrikePolicy
    risk: RiskThresholds
    house_points: HousePointsPolicy
    attendance: AttendancePolicy
    retention: RetentionPolicy
    timezone: str = strawberry.field(
        description="IANA time zone name; the org's today and local midnight follow it.",
        deprecation_reason="Use timeZone (the same value).",
    )

    @strawberry.field(
        description="IANA time zone name; the org's today, this week and local midnight follow it."
    )
    def time_zone(self) -> str:
        return self.timezone

    @classmethod
    def from_policy(cls, p: domain.OrgPolicy) -> OrgPolicy:
        return cls(
            strikes=StrikePolicy(
                window_hours=p.strikes.window_hours,
                negatives_per_strike=p.strikes.negatives_per_strike,
                max_strike=p.strikes.max_strike,
                rungs=[
                    StrikeRung(strike=i + 1, **asdict(r)) for i, r in enumerate(p.strikes.rungs)
                ],
            ),
            risk=RiskThresholds(**asdict(p.risk)),
            house_points=HousePointsPolicy(**asdict(p.house_points)),
            attendance=AttendancePolicy(**asdict(p.attendance)),
            retention=RetentionPolicy(**asdict(p.retention)),
            timezone=p.timezone,
        )


@strawberry.input
class StrikeRungInput:
    consequence: str = limited(C.Consequence)
    admin_notified: bool = False
    hod_consulted: bool = False


@strawberry.input
class StrikePolicyInput:
    window_hours: int | None = limited(C.WindowHours, default=None)
    negatives_per_strike: int | None = limited(C.NegativesPerStrike, default=None)
    rungs: list[StrikeRungInput] | None = limited(
        C.Ladder,
        default=strawberry.UNSET,
        description="Replaces the whole ladder: 1 to 5 rungs, its length the highest strike. "
        "An empty ladder (or null) is refused; to go back to the default, give resetRungs.",
    )
    reset_rungs: bool = strawberry.field(
        default=False,
        description="true puts back the default ladder (1 Warning issued; 2 Second warning - "
        "admin notified; 3 Third strike - HOD consultation required). Not with rungs.",
    )

    def to_changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {
            k: v
            for k, v in (
                ("window_hours", self.window_hours),
                ("negatives_per_strike", self.negatives_per_strike),
            )
            if v is not None
        }
        if self.rungs is not strawberry.UNSET:
            changes["rungs"] = None if self.rungs is None else [vars(r) for r in self.rungs]
        if self.reset_rungs:
            changes["reset_rungs"] = True
        return changes


@strawberry.input
class RiskThresholdsInput:
    behaviour_window_days: int | None = limited(C.WindowDays, default=None)
    behaviour_negatives: int | None = limited(C.Negatives, default=None)
    strike_level: int | None = limited(
        C.StrikeLevel, default=None, description="At most the ladder's highest strike."
    )
    attendance_window_days: int | None = limited(C.AttendanceWindow, default=None)
    chronic_absence_pct: float | None = limited(C.AbsencePercent, default=None)
    severe_absence_pct: float | None = limited(
        C.AbsencePercent, default=None, description="At least chronicAbsencePct."
    )
    grade_levels_below: int | None = limited(C.GradeLevels, default=None)
    min_enrolled_days: int | None = limited(
        C.EnrolledDays, default=None, description="At most attendanceWindowDays."
    )
    iep_off_track_probes: int | None = limited(C.OffTrackProbes, default=None)


@strawberry.input
class AttendancePolicyInput:
    school_year_start: str | None = limited(C.MonthDay, default=None, description="MM-DD.")
    correction_grace_days: int | None = limited(C.GraceDays, default=None)


@strawberry.input
class HousePointsInput:
    positive: int | None = limited(C.HousePoints, default=None, description="0 or more.")
    negative: int | None = limited(C.HousePoints, default=None, description="0 or less.")
    neutral: int | None = limited(C.HousePoints, default=None)


@strawberry.input(description="Only the values given change; null removes a limit.")
class RetentionPolicyInput:
    incidents_years: int | None = limited(C.RetentionYears, default=strawberry.UNSET)
    attendance_years: int | None = limited(C.RetentionYears, default=strawberry.UNSET)
    audit_years: int | None = limited(C.RetentionYears, default=strawberry.UNSET)
    events_days: int | None = limited(C.RetentionDays, default=strawberry.UNSET)

    def to_changes(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not strawberry.UNSET}


@strawberry.input(description="Only the values given change.")
class UpdateOrgPolicyInput:
    strikes: StrikePolicyInput | None = None
    risk: RiskThresholdsInput | None = None
    house_points: HousePointsInput | None = None
    attendance: AttendancePolicyInput | None = None
    retention: RetentionPolicyInput | None = None
    time_zone: str | None = limited(
        C.TimeZone, default=None, description="IANA time zone name, e.g. Europe/London."
    )
    timezone: str | None = limited(
        C.TimeZone, default=None, description="The same as timeZone (the older name)."
    )

    def zone(self) -> str | None:
        """The time zone asked for, by either name (both: they must agree)."""
        both = self.time_zone is not None and self.timezone is not None
        if both and self.time_zone != self.timezone:
            raise ServiceError.single(
                "timeZone", "timeZone and timezone differ: give one", ErrorCode.CONFLICT
            )
        return self.time_zone if self.time_zone is not None else self.timezone


@strawberry.type
class UpdateOrgPolicyPayload:
    policy: OrgPolicy | None
    errors: list[UserError]


def _changes(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: v for k, v in vars(value).items() if v is not None}


@strawberry.type
class OrgQueries:
    @strawberry.field(permission_classes=[allow(*STAFF)], description=roles_note(*STAFF))
    async def org_policy(self, info: Info) -> OrgPolicy:
        policy = await read(info, lambda s: service.get_policy(s, org_id=info.context.actor.org_id))
        return OrgPolicy.from_policy(policy)


@strawberry.type
class OrgMutations:
    @strawberry.mutation(
        permission_classes=[allow(Role.ADMIN)],
        description="Change the strike policy, risk thresholds, house points, attendance "
        "calendar, retention or time zone; new risk thresholds recompute every student's "
        "risk. "
        "Roles: ADMIN.",
    )
    async def update_org_policy(
        self, info: Info, input: UpdateOrgPolicyInput
    ) -> UpdateOrgPolicyPayload:
        result = await in_transaction(
            info,
            lambda s, actor: flows.update_policy(
                s,
                actor=actor,
                strikes=input.strikes.to_changes() if input.strikes else None,
                risk_thresholds=_changes(input.risk),
                house_points=_changes(input.house_points),
                attendance=_changes(input.attendance),
                retention=input.retention.to_changes() if input.retention else None,
                timezone=input.zone(),
            ),
        )
        if isinstance(result, Refused):
            return UpdateOrgPolicyPayload(policy=None, errors=result.errors)
        return UpdateOrgPolicyPayload(policy=OrgPolicy.from_policy(result), errors=[])
