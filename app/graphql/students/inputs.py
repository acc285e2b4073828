from __future__ import annotations

from typing import TypeVar

import strawberry

from app.core import contracts as C
from app.graphql.contracts import limited
from app.graphql.permissions import TEACHING, guarded
from app.students.service import UNSET, Maybe, StudentData
from app.students.service import StudentFilter as StudentFilterData

T = TypeVar("T")


@strawberry.input
class StudentFilter:
    class_code: str | None = limited(C.ClassCode, default=None)
    year_group: int | None = limited(C.YearGroup, default=None)
    campus: str | None = limited(C.Campus, default=None)
    min_risk_tier: int | None = limited(C.Tier, default=None)
    name_contains: str | None = limited(
        C.Search, default=None, description="Part of the name, in any case."
    )

    def to_data(self) -> StudentFilterData:
        return StudentFilterData(
            class_code=self.class_code,
            year_group=self.year_group,
            campus=self.campus,
            min_risk_tier=self.min_risk_tier,
            name_contains=self.name_contains,
        )


def given(value: T) -> Maybe[T]:
    """Strawberry's UNSET (the field was omitted) as the service's."""
    return UNSET if value is strawberry.UNSET else value


_KEPT = "Omitted: kept as stored; null: cleared."
_SUPPORT_LEVEL = "0-3. Omitted: kept; null: back to 0."
_SUPPORT_NOTES = "Omitted: kept; null: cleared."


@strawberry.input(
    description="A student by external SIS id: a new one is created, a known one updated. "
    "Only the fields given change: an omitted field keeps its stored value, null clears it."
)
class UpsertStudentInput:
    external_id: str = limited(C.ExternalId, description="Trimmed.")
    name: str = limited(C.Name)
    class_code: str | None = limited(C.ClassCode, default=strawberry.UNSET, description=_KEPT)
    year_group: int | None = limited(C.YearGroup, default=strawberry.UNSET, description=_KEPT)
    campus: str | None = limited(C.Campus, default=strawberry.UNSET, description=_KEPT)
    support_level: int | None = guarded(
        *TEACHING,
        field=limited(C.SupportLevel, default=strawberry.UNSET, description=_SUPPORT_LEVEL),
    )
    support_notes: str | None = guarded(
        *TEACHING, field=limited(C.Note, default=strawberry.UNSET, description=_SUPPORT_NOTES)
    )

    def to_data(self) -> StudentData:
        return StudentData(
            external_id=self.external_id,
            name=self.name,
            class_code=given(self.class_code),
            year_group=given(self.year_group),
            campus=given(self.campus),
            support_level=given(self.support_level),
            support_notes=given(self.support_notes),
        )


@strawberry.input(
    description="Give supportLevel, supportNotes, caseManager or several; the others are kept."
)
class UpdateStudentSupportInput:
    student_id: strawberry.ID = limited(C.GlobalId)
    support_level: int | None = guarded(
        *TEACHING,
        field=limited(C.SupportLevel, default=strawberry.UNSET, description=_SUPPORT_LEVEL),
    )
    support_notes: str | None = guarded(
        *TEACHING, field=limited(C.Note, default=strawberry.UNSET, description=_SUPPORT_NOTES)
    )
    case_manager: str | None = guarded(
        *TEACHING,
        field=limited(
            C.Person,
            default=strawberry.UNSET,
            description="Who manages the student's IEP (on progress reports); null clears it.",
        ),
    )
