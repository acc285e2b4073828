from __future__ import annotations

import strawberry

from app.students.service import StudentData
from app.students.service import StudentFilter as StudentFilterData


@strawberry.input
class StudentFilter:
    class_code: str | None = None
    year_group: int | None = None
    campus: str | None = None
    min_risk_tier: int | None = None
    name_contains: str | None = None

    def to_data(self) -> StudentFilterData:
        return StudentFilterData(
            class_code=self.class_code,
            year_group=self.year_group,
            campus=self.campus,
            min_risk_tier=self.min_risk_tier,
            name_contains=self.name_contains,
        )


@strawberry.input
class UpsertStudentInput:
    external_id: str
    name: str
    class_code: str | None = None
    year_group: int | None = None
    campus: str | None = None
    support_level: int | None = None
    support_notes: str | None = None

    def to_data(self) -> StudentData:
        return StudentData(
            external_id=self.external_id,
            name=self.name,
            class_code=self.class_code,
            year_group=self.year_group,
            campus=self.campus,
            support_level=self.support_level,
            support_notes=self.support_notes,
        )


@strawberry.input
class UpdateStudentSupportInput:
    student_id: strawberry.ID
    support_level: int | None = None
    support_notes: str | None = None
