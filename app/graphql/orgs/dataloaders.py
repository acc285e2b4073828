from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.graphql.dataloaders import OrgLoader
from app.orgs import service
from app.orgs.policy import OrgPolicy


class OrgPolicyByOrgLoader(OrgLoader[uuid.UUID, OrgPolicy]):
    """The request's org policy, read once however many fields need it (key: the org id)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, OrgPolicy]:
        return {self.org_id: await service.get_policy(session, org_id=self.org_id)}
