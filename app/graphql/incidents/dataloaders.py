from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page
from app.graphql.dataloaders import OrgLoader, RowByIdLoader
from app.incidents import service
from app.incidents.models import Incident
from app.orgs import service as orgs


class IncidentByIdLoader(RowByIdLoader):
    model = Incident


class IncidentsByStudentLoader(OrgLoader[uuid.UUID, Page[Incident]]):
    """params: (PageRequest,) — the same page for every student in the batch."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Page[Incident]]:
        (page,) = self.params
        return await service.pages_per_student(
            session, org_id=self.org_id, student_ids=keys, page=page
        )


class StrikeLevelByStudentLoader(OrgLoader[uuid.UUID, int]):
    default = 0

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, int]:
        policy = await orgs.get_policy(session, org_id=self.org_id)
        return await service.current_strike_levels(
            session,
            org_id=self.org_id,
            student_ids=keys,
            window=timedelta(hours=policy.strikes.window_hours),
        )
