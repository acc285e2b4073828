from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader
from app.interventions import service
from app.interventions.models import Intervention


class InterventionsByStudentLoader(OrgLoader[uuid.UUID, list[Intervention]]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[Intervention]]:
        return await service.for_students(session, org_id=self.org_id, student_ids=keys)


class InterventionByIdLoader(OrgLoader[uuid.UUID, Intervention | None]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Intervention | None]:
        rows = await session.execute(
            select(Intervention).where(
                Intervention.org_id == self.org_id, Intervention.id.in_(keys)
            )
        )
        return {row.id: row for row in rows.scalars()}
