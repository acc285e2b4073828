"""A nested query's SQL statement count does not grow with the number of students."""

from __future__ import annotations

from datetime import date

from app.assessments import flows as assessment_flows
from app.assessments import service as assessments
from app.assessments.models import AssessmentKind
from app.attendance import flows as attendance_flows
from app.attendance import service as attendance
from app.db import Database
from app.incidents.models import IncidentKind
from tests.conftest import GraphQLClient, StatementCounter, make_org
from tests.factories import log, make_student

CLASS_DASHBOARD = """query($cls: String!, $n: Int!) {
  students(first: $n, filter: {classCode: $cls}) { edges { node {
    id name riskTier strikeLevel housePoints
    risk { tier factors { indicator value threshold } }
    incidents(first: 10) { edges { node { id category strikeLevel } } }
    attendanceSummary { rate daysAbsent tardies }
    latestDiagnostics { subject scaleScore relativePlacement }
  } } }
}"""


async def _school(db: Database, size: int) -> tuple[object, str]:
    org = await make_org(db)
    cls = f"C{size}"
    actor = org.principal()
    ids = []
    for i in range(size):
        student = await make_student(db, org, class_code=cls, name=f"Student {i:03d}")
        ids.append(student.id)
        await log(db, org, student.id, kind=IncidentKind.NEGATIVE)
        await log(db, org, student.id, kind=IncidentKind.POSITIVE)
    async with db.transaction(org.id) as session:
        await attendance_flows.record_days(
            session, actor=actor, days=[attendance.DayInput(s, date(2026, 11, 2), 6) for s in ids]
        )
        await assessment_flows.record_many(
            session,
            actor=actor,
            items=[
                assessments.AssessmentData(
                    s, AssessmentKind.DIAGNOSTIC, "MATH", date(2026, 10, 1), scale_score=500
                )
                for s in ids
            ],
        )
    return org, cls


async def test_statement_count_is_flat(
    gql: GraphQLClient, db: Database, count_statements: StatementCounter
) -> None:
    counts = []
    for size in (5, 50):
        org, cls = await _school(db, size)
        count_statements.statements.clear()
        body = await gql(CLASS_DASHBOARD, {"cls": cls, "n": size}, token=org.token())  # type: ignore[attr-defined]
        assert "errors" not in body, body
        edges = body["data"]["students"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["incidents"]["edges"]) == 2 for e in edges)
        assert all(e["node"]["attendanceSummary"]["rate"] == 1.0 for e in edges)
        counts.append(len(count_statements.statements))
    print(f"statements per dashboard query: {counts}")
    assert counts[0] == counts[1], counts
