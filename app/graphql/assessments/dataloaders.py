from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.assessments import service
from app.assessments.models import Assessment
from app.graphql.dataloaders import OrgLoader, RowByIdLoader


class AssessmentsByStudentLoader(OrgLoader[uuid.UUID, list[Assessment]]):
    """params: (subject,)."""

    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[Assessment]]:
        (subject,) = self.params
        return await service.for_students(
            session, org_id=self.org_id, student_ids=keys, subject=subject
        )


class LatestDiagnosticsByStudentLoader(OrgLoader[uuid.UUID, list[Assessment]]):
    async def load_batch(
        self, session: AsyncSession, keys: list[uuid.UUID]
    ) -> Mapping[uuid.UUID, list[Assessment]]:
        return await service.latest_diagnostics(session, org_id=self.org_id, student_ids=keys)


class AssessmentByIdLoader(RowByIdLoader):
    model = Assessment
