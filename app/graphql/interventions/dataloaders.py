from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader, RowByIdLoader
from app.interventions import service
from app.interventions.models import Intervention


class InterventionsByStudentLoader(OrgLoader[uuid.UUID, list[Intervention]]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[Intervention]]:
        return await service.for_students(session, org_id=self.org_id, student_ids=keys)


class InterventionByIdLoader(RowByIdLoader):
    model = Intervention
