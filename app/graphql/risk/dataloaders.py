from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader
from app.risk import service
from app.risk.models import RiskAssessment


class RiskHistoryByStudentLoader(OrgLoader[uuid.UUID, list[RiskAssessment]]):
    """params: (limit,)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[RiskAssessment]]:
        (limit,) = self.params
        return await service.history(session, org_id=self.org_id, student_ids=keys, limit=limit)
