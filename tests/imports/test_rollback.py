"""rollbackImport puts back exactly what an import changed: updated rows get the values
they had, inserted ones go (incidents are voided, through the journey), students it
created go unless something else now refers to them, and risk is recomputed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.attendance.models import AttendanceDay
from app.db import Database
from app.graphql.relay import to_global_id
from app.imports.kinds import ImportKind
from app.incidents.models import Incident
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import GraphQLClient, Org, make_org
from tests.factories import log
from tests.imports.test_jobs import incidents_csv, roster_csv, run, start

ROLLBACK = """mutation Rollback($id: ID!) { rollbackImport(id: $id) {
  job { id status } restored deleted voided studentsKept errors { field message code } } }"""


async def students_of(db: Database, org: Org) -> dict[str, tuple[Any, ...]]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(
                Student.external_id,
                Student.name,
                Student.class_code,
                Student.year_group,
                Student.campus,
                Student.support_level,
            )
        )
        return {r[0]: tuple(r[1:]) for r in rows}


async def test_a_roster_rollback_restores_exactly_what_was_there(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    await run(db, await start(db, org, ImportKind.ROSTER, ("a.csv", roster_csv(40))))
    before = await students_of(db, org)
    # The second file renames 40 students and adds 10.
    renamed = roster_csv(50).replace(b",Pupil ", b",Renamed ")
    job = await run(db, await start(db, org, ImportKind.ROSTER, ("b.csv", renamed)))
    assert (job.updated, job.inserted) == (40, 10)
    body = await gql(ROLLBACK, {"id": to_global_id("ImportJob", job.id)}, token=org.token())
    done = body["data"]["rollbackImport"]
    assert done["errors"] == [] and done["job"]["status"] == "ROLLED_BACK"
    assert (done["restored"], done["deleted"], done["studentsKept"]) == (40, 10, 0)
    assert await students_of(db, org) == before

    again = await gql(ROLLBACK, {"id": to_global_id("ImportJob", job.id)}, token=org.token())
    (error,) = again["data"]["rollbackImport"]["errors"]
    assert error["code"] == "CONFLICT"


async def test_an_attendance_rollback_removes_its_days_and_the_students_it_created(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    data = f"Student ID,Student Name,Date,All Day\nN1,Ann,{day},A\nN2,Bob,{day},\n".encode()
    job = await run(db, await start(db, org, ImportKind.ATTENDANCE, ("d.csv", data)))
    assert job.created_students == 2
    async with db.transaction(org.id) as session:
        bob = (
            await session.execute(select(Student).where(Student.external_id == "N2"))
        ).scalar_one()
    await log(db, org, bob.id)  # something else now refers to Bob
    body = await gql(ROLLBACK, {"id": to_global_id("ImportJob", job.id)}, token=org.token())
    done = body["data"]["rollbackImport"]
    assert (done["deleted"], done["studentsKept"]) == (3, 1)  # two days and Ann
    assert set(await students_of(db, org)) == {"N2"}
    async with db.transaction(org.id) as session:
        days = (await session.execute(select(func.count()).select_from(AttendanceDay))).scalar()
    assert days == 0


async def test_an_incident_rollback_voids_them_through_the_journey(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(1))))
    when = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    data = incidents_csv([("S00000", when, "Positive", "Helpful")])
    job = await run(db, await start(db, org, ImportKind.INCIDENTS, ("i.csv", data)))
    body = await gql(ROLLBACK, {"id": to_global_id("ImportJob", job.id)}, token=org.token())
    assert body["data"]["rollbackImport"]["voided"] == 1
    async with db.transaction(org.id) as session:
        incident = (await session.execute(select(Incident))).scalar_one()
        points = (await session.execute(select(Student.house_points))).scalar_one()
    assert incident.voided and points == 0


async def test_rollback_is_for_importers_of_the_same_org(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    job = await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(2))))
    job_id = to_global_id("ImportJob", job.id)
    teacher = await gql(ROLLBACK, {"id": job_id}, token=org.token(Role.TEACHER))
    assert "requires role" in teacher["errors"][0]["message"]
    other = await make_org(db)
    elsewhere = await gql(ROLLBACK, {"id": job_id}, token=other.token())
    (error,) = elsewhere["data"]["rollbackImport"]["errors"]
    assert error["code"] == "NOT_FOUND"
    assert len(await students_of(db, org)) == 2


async def test_a_teacher_voided_incident_does_not_block_the_rollback_and_a_reimport_logs_anew(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    from app.incidents import flows

    await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(1))))
    when = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    data = incidents_csv(
        [
            ("S00000", f"{when} 09:00", "Positive", "Helpful"),
            ("S00000", f"{when} 10:00", "Negative", "Late"),
        ]
    )
    job = await run(db, await start(db, org, ImportKind.INCIDENTS, ("i.csv", data)))
    async with db.transaction(org.id) as session:
        first = (
            (await session.execute(select(Incident).order_by(Incident.occurred_at)))
            .scalars()
            .first()
        )
        assert first is not None
        await flows.void_incident(session, actor=org.principal(), incident_id=first.id, reason="x")
    body = await gql(ROLLBACK, {"id": to_global_id("ImportJob", job.id)}, token=org.token())
    done = body["data"]["rollbackImport"]
    assert done["errors"] == [] and done["voided"] == 1
    again = await run(db, await start(db, org, ImportKind.INCIDENTS, ("i.csv", data)))
    assert (again.inserted, again.unchanged) == (2, 0)  # logged anew, not taken for the old
