"""Creating and updating interventions."""

from __future__ import annotations

from datetime import date

import strawberry

from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.errors import UserError
from app.graphql.interventions.types import Intervention, InterventionStatus
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import TEACHING, allow, roles_note
from app.graphql.relay import parse_id
from app.interventions import service
from app.interventions.models import Intervention as InterventionModel


@strawberry.input
class CreateInterventionInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    tier: int = limited(C.Tier)
    type: str = limited(C.Label)
    status: InterventionStatus | None = None  # type: ignore[valid-type]
    owner: str | None = limited(C.Person, default=None)
    notes: str | None = limited(C.Note, default=None)
    start_date: date | None = limited(C.SchoolDate, default=None)
    end_date: date | None = limited(C.SchoolDate, default=None)


@strawberry.input
class UpdateInterventionInput:
    id: strawberry.ID = limited(C.GlobalId)
    tier: int | None = limited(C.Tier, default=None)
    type: str | None = limited(C.Label, default=None)
    status: InterventionStatus | None = None  # type: ignore[valid-type]
    owner: str | None = limited(C.Person, default=None)
    notes: str | None = limited(C.Note, default=None)
    start_date: date | None = limited(C.SchoolDate, default=None)
    end_date: date | None = limited(C.SchoolDate, default=None)


def _changes(i: CreateInterventionInput | UpdateInterventionInput) -> service.InterventionChanges:
    return service.InterventionChanges(
        tier=i.tier,
        type=i.type,
        status=i.status,
        owner=i.owner,
        notes=i.notes,
        start_date=i.start_date,
        end_date=i.end_date,
    )


@strawberry.type
class InterventionPayload:
    intervention: Intervention | None
    errors: list[UserError]


def _payload(result: object) -> InterventionPayload:
    if isinstance(result, Refused):
        return InterventionPayload(intervention=None, errors=result.errors)
    assert isinstance(result, InterventionModel)
    return InterventionPayload(intervention=Intervention.from_model(result), errors=[])


@strawberry.type
class InterventionMutations:
    @strawberry.mutation(permission_classes=[allow(*TEACHING)], description=roles_note(*TEACHING))
    async def create_intervention(
        self, info: Info, input: CreateInterventionInput
    ) -> InterventionPayload:
        return _payload(
            await in_transaction(
                info,
                lambda s, actor: service.create(
                    s,
                    actor=actor,
                    student_id=parse_id(input.student_id, "Student", "studentId"),
                    changes=_changes(input),
                ),
            )
        )

    @strawberry.mutation(permission_classes=[allow(*TEACHING)], description=roles_note(*TEACHING))
    async def update_intervention(
        self, info: Info, input: UpdateInterventionInput
    ) -> InterventionPayload:
        return _payload(
            await in_transaction(
                info,
                lambda s, actor: service.update(
                    s,
                    actor=actor,
                    intervention_id=parse_id(input.id, "Intervention", "id"),
                    changes=_changes(input),
                ),
            )
        )
