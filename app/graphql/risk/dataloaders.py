from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader
from app.orgs import service as orgs
from app.risk import service, trajectory
from app.risk.models import RiskAssessment
from app.risk.trajectory import Trajectory


class RiskHistoryByStudentLoader(OrgLoader[uuid.UUID, list[RiskAssessment]]):
    """params: (limit,)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[RiskAssessment]]:
        (limit,) = self.params
        return await service.history(session, org_id=self.org_id, student_ids=keys, limit=limit)


class RiskTrajectoryByStudentLoader(OrgLoader[uuid.UUID, Trajectory]):
    """params: (weeks,) — one batch of statements for every student asked for."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Trajectory]:
        (weeks,) = self.params
        policy = await orgs.get_policy(session, org_id=self.org_id)
        return await trajectory.trajectories(
            session,
            org_id=self.org_id,
            student_ids=keys,
            weeks=weeks,
            policy=policy,
            now=datetime.now(UTC),
        )
