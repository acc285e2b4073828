"""exportStudents: where to download the student export (CSV or XLSX)."""

from __future__ import annotations

from urllib.parse import urlencode

import strawberry

from app.exports.students import ExportFormat as _Format
from app.graphql.context import Info
from app.graphql.permissions import STAFF, allow, roles_note
from app.graphql.students.inputs import StudentFilter

ExportFormat = strawberry.enum(_Format, name="ExportFormat")

_PARAMS = {
    "class_code": "classCode",
    "year_group": "yearGroup",
    "campus": "campus",
    "min_risk_tier": "minRiskTier",
    "name_contains": "nameContains",
}


@strawberry.type(description="A download: GET it with the same bearer token.")
class StudentExport:
    url: str = strawberry.field(description="Relative to the API's address.")
    format: ExportFormat  # type: ignore[valid-type]


@strawberry.type
class ExportQueries:
    @strawberry.field(
        permission_classes=[allow(*STAFF)],
        description="The students (as `students` filters them) with class, year group, risk "
        "tier and factors, incidents in the last 30 days, attendance rate and latest "
        "diagnostic placements, as CSV or XLSX: text a spreadsheet would run as a formula "
        "is written with a leading apostrophe. " + roles_note(*STAFF),
    )
    def export_students(
        self,
        info: Info,
        filter: StudentFilter | None = None,
        format: ExportFormat = _Format.CSV,  # type: ignore[valid-type]
    ) -> StudentExport:
        query = {}
        if filter is not None:
            data = filter.to_data()
            query = {
                param: getattr(data, name)
                for name, param in _PARAMS.items()
                if getattr(data, name) is not None
            }
        path = f"/exports/students.{_Format(format).value.lower()}"
        return StudentExport(url=path + (f"?{urlencode(query)}" if query else ""), format=format)
