from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import service
from app.attendance.models import AttendanceDay
from app.graphql.dataloaders import OrgLoader, RowByIdLoader


class AttendanceSummaryByStudentLoader(OrgLoader[uuid.UUID, service.AttendanceSummary]):
    """params: (start, end)."""

    default = service.EMPTY_SUMMARY

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, service.AttendanceSummary]:
        start, end = self.params
        return await service.summaries(
            session, org_id=self.org_id, student_ids=keys, start=start, end=end
        )


class AttendanceDaysByStudentLoader(OrgLoader[uuid.UUID, list[AttendanceDay]]):
    """params: (start, end)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[AttendanceDay]]:
        start, end = self.params
        return await service.days_for(
            session, org_id=self.org_id, student_ids=keys, start=start, end=end
        )


class AttendanceDayByIdLoader(RowByIdLoader):
    model = AttendanceDay
