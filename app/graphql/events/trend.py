"""dashboardTrend: the dashboard's per-day series (its trend chart)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from app.core import contracts as C
from app.dashboard import service as dashboard
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.events.types import ScopeInput, scope_of
from app.graphql.permissions import ALL_ROLES, allow, roles_note


@strawberry.type(description="One day of the organisation's calendar, in the scope.")
class DayTrend:
    day: date
    attendance_rate: float | None = strawberry.field(
        description="Present periods / scheduled periods (null: none recorded that day)."
    )
    negative_incidents: int
    positive_incidents: int


@strawberry.type
class DashboardQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="Per day of the last `days` (today included, the organisation's days): "
        "attendance rate and incidents by kind, void ones excluded. " + roles_note(*ALL_ROLES),
    )
    async def dashboard_trend(
        self,
        info: Info,
        scope: ScopeInput | None = None,
        days: Annotated[int, limited_argument(C.TrendDays)] = 28,
    ) -> list[DayTrend]:
        rows = await dashboard.trend(
            info.context.db,
            org_id=info.context.actor.org_id,
            scope=scope_of(scope),
            now=datetime.now(UTC),
            days=days,
        )
        return [
            DayTrend(
                day=r.day,
                attendance_rate=r.attendance_rate,
                negative_incidents=r.negative,
                positive_incidents=r.positive,
            )
            for r in rows
        ]
