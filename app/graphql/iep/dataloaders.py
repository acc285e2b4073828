from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page
from app.graphql.dataloaders import OrgLoader, RowByIdLoader
from app.iep import service
from app.iep.models import IepGoal, IepNarrative, IepProbe
from app.iep.progress import Progress


class IepGoalByIdLoader(RowByIdLoader):
    model = IepGoal


class IepProbeByIdLoader(RowByIdLoader):
    model = IepProbe


class IepGoalsByStudentLoader(OrgLoader[uuid.UUID, list[IepGoal]]):
    """params: (status or None,)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[IepGoal]]:
        (status,) = self.params
        return await service.goals_for_students(
            session, org_id=self.org_id, student_ids=keys, status=status
        )


class IepProgressByGoalLoader(OrgLoader[IepGoal, Progress]):
    """Keyed by the goal row (progress needs its terms): one statement for every goal."""

    async def load_batch(
        self, session: AsyncSession, keys: list[IepGoal]
    ) -> Mapping[IepGoal, Progress]:
        found = await service.progress_of(session, org_id=self.org_id, goals=keys)
        return {goal: found[goal.id] for goal in keys}


class IepProbesByGoalLoader(OrgLoader[uuid.UUID, Page[IepProbe]]):
    """params: (PageRequest,) — the same page for every goal in the batch."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Page[IepProbe]]:
        (page,) = self.params
        return await service.probe_pages(session, org_id=self.org_id, goal_ids=keys, page=page)


class IepNarrativesByGoalLoader(OrgLoader[uuid.UUID, list[IepNarrative]]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[IepNarrative]]:
        return await service.narratives_for_goals(session, org_id=self.org_id, goal_ids=keys)
