from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader
from app.students import service
from app.students.models import Student


class StudentByIdLoader(OrgLoader[uuid.UUID, Student | None]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, Student | None]:
        return await service.get_many(session, org_id=self.org_id, ids=keys)
