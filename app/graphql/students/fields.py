"""`student` on anything that belongs to a student (incidents, interventions, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.graphql.context import Info

if TYPE_CHECKING:
    from app.graphql.students.types import Student


async def resolve_student(
    root: Any, info: Info
) -> Annotated[Student, strawberry.lazy("app.graphql.students.types")] | None:
    """The student of `root.model.student_id`, through the request's StudentByIdLoader."""
    from app.graphql.students.types import Student

    return await Student.load(info, root.model.student_id)
