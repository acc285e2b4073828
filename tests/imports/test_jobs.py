"""Import jobs end to end in the service, on the real database: files stored, processed in
committed batches, row errors with their row numbers, unchanged rows skipped without a
write, file-level failures writing nothing, dry runs, and resume after a failed batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from app.attendance.models import AttendanceDay
from app.audit.models import AuditEntry
from app.db import Database
from app.imports import processing, service
from app.imports.kinds import ImportKind
from app.imports.models import ImportJob, ImportRowError, ImportStatus
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import Org, make_org
from tests.imports.test_formats import ELA_DOMAINS, MATH_DOMAINS, iready, make_csv, sheet

STALE = timedelta(seconds=60)


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 7_000):  # uploads arrive in pieces
        yield data[start : start + 7_000]


async def start(
    db: Database, org: Org, kind: ImportKind, *files: tuple[str, bytes], dry_run: bool = False
) -> uuid.UUID:
    async with db.transaction(org.id) as session:
        job = await service.create(
            session,
            actor=org.principal(Role.ADMIN, sub="importer"),
            kind=kind,
            uploads=[service.Upload(name, _bytes(data)) for name, data in files],
            dry_run=dry_run,
            max_file_bytes=10_000_000,
        )
    return job.id


async def run(db: Database, job_id: uuid.UUID, batch_size: int = 100) -> ImportJob:
    job = await processing.process(db, job_id, batch_size=batch_size, stale=STALE)
    assert job is not None
    return job


async def errors_of(db: Database, org: Org, job_id: uuid.UUID) -> list[ImportRowError]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(
            select(ImportRowError)
            .where(ImportRowError.job_id == job_id)
            .order_by(ImportRowError.id)
        )
        return list(rows.scalars())


async def count(db: Database, org: Org, model: Any) -> int:
    async with db.transaction(org.id) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def roster_csv(n: int, *, start: int = 0) -> bytes:
    lines = ["\ufeffStudent ID , Student Name,Class Code,YEAR GROUP,Campus,Support Level"]
    for i in range(start, start + n):
        lines.append(f"S{i:05d},Pupil {i},{7 + i % 3}A,{7 + i % 3},North,{i % 4}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


async def test_a_roster_lands_in_batches_and_a_reimport_changes_nothing(
    db: Database, org: Org
) -> None:
    data = roster_csv(250)
    job = await run(db, await start(db, org, ImportKind.ROSTER, ("roster.csv", data)))
    assert job.status is ImportStatus.SUCCEEDED
    assert (job.processed, job.inserted, job.updated, job.failed) == (250, 250, 0, 0)
    async with db.transaction(org.id) as session:
        pupil = (
            await session.execute(select(Student).where(Student.external_id == "S00004"))
        ).scalar_one()
    assert (pupil.name, pupil.class_code, pupil.year_group, pupil.support_level) == (
        "Pupil 4",
        "8A",
        8,
        0,
    )
    assert pupil.risk_computed_at is not None  # a created student is evaluated at once

    audits = await count(db, org, AuditEntry)
    again = await run(db, await start(db, org, ImportKind.ROSTER, ("roster.csv", data)))
    assert (again.status, again.unchanged, again.inserted, again.updated) == (
        ImportStatus.SUCCEEDED,
        250,
        0,
        0,
    )
    # Nothing written for unchanged rows: only the second job's own audit row.
    assert await count(db, org, AuditEntry) == audits + 1


def attendance_csv(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = ["Student ID;Student Name;Date;All Day;Period 1;Period 2"]
    lines += [";".join(r) for r in rows]
    return "\n".join(lines).encode("cp1252")


async def test_attendance_creates_missing_students_and_reports_bad_rows_by_number(
    db: Database, org: Org
) -> None:
    today = datetime.now(UTC).date()
    day = (today - timedelta(days=1)).strftime("%m/%d/%Y")
    future = (today + timedelta(days=3)).isoformat()
    data = attendance_csv(
        [
            ("A1", "Zoë Ñúñez", day, "", ""),  # row 2: present
            ("A2", "Bo", day, "A", ""),  # row 3: absent all day
            ("A3", "Cy", "31/31/2025", "", ""),  # row 4: not a date
            ("A4", "Di", day, "QQ", ""),  # row 5: a code the org does not have
            ("A5", "Ed", future, "", ""),  # row 6: in the future
            ("A6", "Fi", day, "", "T"),  # row 7: late to period 1
            ("A2", "Bo", day, "E", ""),  # row 8: A2 again, the later row wins
        ]
    )
    job = await run(db, await start(db, org, ImportKind.ATTENDANCE, ("sis.csv", data)))
    assert job.status is ImportStatus.PARTIAL
    assert (job.processed, job.inserted, job.failed, job.skipped) == (7, 3, 3, 1)
    assert job.created_students == 3  # A1, A2, A6: a rejected row creates no one
    errors = await errors_of(db, org, job.id)
    by_row = {e.row: e for e in errors}
    assert set(by_row) == {3, 4, 5, 6}
    assert by_row[4].column == "Date" and by_row[4].value == "31/31/2025"
    assert by_row[5].code == "UNKNOWN_CODE" and by_row[5].column == "All Day"
    assert by_row[6].column == "Date" and "future" in by_row[6].message
    assert by_row[3].code == "DUPLICATE" and "row 8" in by_row[3].message
    async with db.transaction(org.id) as session:
        names = {e: n for e, n in await session.execute(select(Student.external_id, Student.name))}
        days = {
            external_id: (d.all_day_code, d.tardy_periods)
            for external_id, d in (
                await session.execute(
                    select(Student.external_id, AttendanceDay).join(
                        AttendanceDay, AttendanceDay.student_id == Student.id
                    )
                )
            )
        }
    assert names["A1"] == "Zoë Ñúñez"  # cp1252, read as such
    assert days == {"A1": (None, 0), "A2": ("E", 0), "A6": (None, 1)}


async def test_a_file_missing_required_columns_fails_the_job_and_writes_nothing(
    db: Database, org: Org
) -> None:
    good = roster_csv(5)
    bad = b"Name,Class\nAda,7A\n"
    job_id = await start(db, org, ImportKind.ROSTER, ("good.csv", good), ("bad.csv", bad))
    job = await run(db, job_id)
    assert job.status is ImportStatus.FAILED
    (error,) = await errors_of(db, org, job_id)
    assert (error.file, error.row, error.code) == ("bad.csv", None, "MISSING_COLUMNS")
    assert "Student ID" in error.message
    assert await count(db, org, Student) == 0  # the good file was not imported either


async def test_empty_and_binary_files_fail_with_their_reason(db: Database, org: Org) -> None:
    for data, code in ((b"", "EMPTY_FILE"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "BINARY_FILE")):
        job_id = await start(db, org, ImportKind.ROSTER, ("f.csv", data))
        assert (await run(db, job_id)).status is ImportStatus.FAILED
        assert [e.code for e in await errors_of(db, org, job_id)] == [code]


async def test_a_dry_run_reports_what_would_change_and_writes_nothing(
    db: Database, org: Org
) -> None:
    job = await run(
        db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(30)), dry_run=True)
    )
    assert (job.status, job.inserted, job.processed) == (ImportStatus.SUCCEEDED, 30, 30)
    assert await count(db, org, Student) == 0


async def test_a_job_resumes_after_its_last_committed_batch(
    db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.imports import apply

    data = roster_csv(350)
    job_id = await start(db, org, ImportKind.ROSTER, ("roster.csv", data))
    # The worker stops in the third batch (rows 202..301), as a killed or shut-down worker
    # does: its task is cancelled there (a SIGKILLed process: tests/imports/test_worker.py).
    original, calls = apply.apply, 0

    async def stopped_in_third_batch(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        result = await original(*args, **kwargs)
        if calls == 3:
            raise asyncio.CancelledError
        return result

    monkeypatch.setattr(apply, "apply", stopped_in_third_batch)
    with pytest.raises(asyncio.CancelledError):
        await run(db, job_id)
    monkeypatch.setattr(apply, "apply", original)
    async with db.transaction(org.id) as session:
        job = (await session.execute(select(ImportJob).where(ImportJob.id == job_id))).scalar_one()
        assert (job.status, job.resume_row, job.inserted) == (ImportStatus.RUNNING, 201, 200)
        # Its worker is gone: the heartbeat goes stale.
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(heartbeat_at=func.now() - text("interval '1 hour'"))
        )
    done = await run(db, job_id)
    assert (done.status, done.processed, done.inserted, done.failed) == (
        ImportStatus.SUCCEEDED,
        350,
        350,
        0,
    )
    assert done.attempts == 2
    assert await count(db, org, Student) == 350  # nothing lost, nothing twice


async def test_a_live_job_is_not_taken_twice_and_a_finished_one_not_rerun(
    db: Database, org: Org
) -> None:
    job_id = await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(3)))
    await run(db, job_id)
    assert await processing.process(db, job_id, batch_size=10, stale=STALE) is None


async def test_an_import_in_one_org_never_touches_another(db: Database, org: Org) -> None:
    other = await make_org(db)
    await run(db, await start(db, other, ImportKind.ROSTER, ("r.csv", roster_csv(4))))
    job = await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(4))))
    assert job.inserted == 4  # the same external ids, another org: new students here
    assert await count(db, org, Student) == 4
    assert await count(db, other, Student) == 4


def test_dates_in_the_fixtures_are_real() -> None:
    assert date.fromisoformat("2025-09-10")


def iready_csv(subject: str, rows: list[tuple[str, str, str]]) -> bytes:
    lines = [
        "Student ID,Subject,Academic Year,Completion Date,Overall Scale Score,"
        "Overall Placement,Overall Relative Placement,Percentile,"
        "Reading Comprehension: Literature Scale Score,Annual Typical Growth Measure"
    ]
    for external_id, taken, score in rows:
        lines.append(
            f"{external_id},{subject},2025-2026,{taken},{score},Grade 7,"
            f"1 Grade Level Below,40,{score},20"
        )
    return "\n".join(lines).encode()


async def test_iready_files_of_both_subjects_flag_unknown_students_and_reimport_unchanged(
    db: Database, org: Org
) -> None:
    await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(3))))
    taken = (datetime.now(UTC).date() - timedelta(days=10)).strftime("%m/%d/%Y")
    ela = iready_csv("Reading", [("S00000", taken, "512"), ("NOPE", taken, "500")])
    math = iready_csv("Math", [("S00001", taken, "480"), ("S00002", taken, "900")])
    files = (("ela.csv", ela), ("math.csv", math))
    job = await run(db, await start(db, org, ImportKind.IREADY, *files))
    assert (job.status, job.inserted, job.failed, job.created_students) == (
        ImportStatus.PARTIAL,
        2,
        2,
        0,
    )
    errors: dict[tuple[str, int | None], set[tuple[str | None, str]]] = {}
    for e in await errors_of(db, org, job.id):
        errors.setdefault((e.file, e.row), set()).add((e.column, e.code))
    assert errors[("ela.csv", 3)] == {("Student ID", "NOT_FOUND")}
    assert ("Overall Scale Score", "OUT_OF_RANGE") in errors[("math.csv", 3)]
    assert set(errors) == {("ela.csv", 3), ("math.csv", 3)}
    again = await run(db, await start(db, org, ImportKind.IREADY, *files))
    assert (again.unchanged, again.inserted, again.updated) == (2, 0, 0)


def incidents_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["Student ID,Date,Type,Reason,Points,Comment,Teacher"]
    lines += [f"{s},{d},{k},{c},,,Mr Smith" for s, d, k, c in rows]
    return "\n".join(lines).encode()


async def test_historical_incidents_go_through_the_journey_once_each(
    db: Database, org: Org
) -> None:
    await run(db, await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(2))))
    day = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    data = incidents_csv(
        [
            ("S00000", f"{day} 09:00", "Negative", "Disruption"),
            ("S00000", f"{day} 10:00", "negative", "Disruption"),
            ("S00001", f"{day} 11:00", "Positive", "Helpful"),
            ("S00001", f"{day} 12:00", "sideways", "Odd"),  # row 5: no such kind
        ]
    )
    job = await run(db, await start(db, org, ImportKind.INCIDENTS, ("b.csv", data)))
    assert (job.status, job.inserted, job.failed) == (ImportStatus.PARTIAL, 3, 1)
    (error,) = await errors_of(db, org, job.id)
    assert (error.row, error.column) == (5, "Type")
    async with db.transaction(org.id) as session:
        strikes = list(
            (
                await session.execute(
                    text(
                        "SELECT strike_level FROM incidents WHERE kind = 'NEGATIVE' "
                        "ORDER BY occurred_at"
                    )
                )
            ).scalars()
        )
        points = (
            await session.execute(
                select(Student.house_points).where(Student.external_id == "S00001")
            )
        ).scalar_one()
    assert strikes == [1, 1]  # the strike rule, as the console applies it
    assert points == 1
    again = await run(db, await start(db, org, ImportKind.INCIDENTS, ("b.csv", data)))
    assert (again.inserted, again.unchanged) == (0, 3)  # idempotent per row


async def test_a_period_code_error_names_its_column_and_a_header_only_file_fails(
    db: Database, org: Org
) -> None:
    day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    data = f"Student ID,Date,Period 1,Period 2\nQ1,{day},T,QQ\n".encode()
    job = await run(db, await start(db, org, ImportKind.ATTENDANCE, ("p.csv", data)))
    (error,) = await errors_of(db, org, job.id)
    assert (error.row, error.column, error.code) == (2, "Period 2", "UNKNOWN_CODE")

    header_only = await start(db, org, ImportKind.ATTENDANCE, ("h.csv", b"Student ID,Date\n"))
    assert (await run(db, header_only)).status is ImportStatus.FAILED
    assert [e.code for e in await errors_of(db, org, header_only)] == ["NO_DATA_ROWS"]


async def test_realistic_exports_of_several_hundred_rows_land_whole(db: Database, org: Org) -> None:
    """The parsing tests' messy files (BOMs, odd headers, quoted newlines, cp1252, a column
    of no use), end to end: a 300-row sheet roster, then ELA and Math diagnostics for them."""
    rows = sheet(300)
    rows[1:] = [[f"S{i}", *row[1:]] for i, row in enumerate(rows[1:])]  # ids i-Ready knows
    roster = make_csv(rows, ";").encode("cp1252")
    job = await run(db, await start(db, org, ImportKind.ROSTER, ("sis.csv", roster)))
    assert (job.status, job.inserted, job.failed) == (ImportStatus.SUCCEEDED, 300, 0)
    files = (
        ("ela.csv", iready("Reading", ELA_DOMAINS, 300, "Reading Comprehension: ")),
        ("math.csv", iready("Math", MATH_DOMAINS, 300)),
    )
    diagnostics = await run(db, await start(db, org, ImportKind.IREADY, *files))
    assert diagnostics.status is ImportStatus.SUCCEEDED
    assert (diagnostics.processed, diagnostics.inserted, diagnostics.failed) == (600, 600, 0)
    again = await run(db, await start(db, org, ImportKind.IREADY, *files))
    assert (again.inserted, again.updated) == (0, 0)


async def test_a_key_repeated_in_a_later_batch_or_file_replaces_and_reports_the_earlier(
    db: Database, org: Org
) -> None:
    first = b"Student ID,Name\nD1,Ann\nD2,Bob\nD3,Cy\nD4,Di\nD1,Ann Later\n"  # D1: rows 2, 6
    second = b"Student ID,Name\nD2,Bob Again\n"  # D2 again, in another file
    job_id = await start(db, org, ImportKind.ROSTER, ("a.csv", first), ("b.csv", second))
    job = await run(db, job_id, batch_size=2)  # rows 2 and 6 in different batches
    duplicates = [
        (e.file, e.row, e.message)
        for e in await errors_of(db, org, job_id)
        if e.code == "DUPLICATE"
    ]
    assert [(f, r) for f, r, _ in duplicates] == [("a.csv", 2), ("a.csv", 3)]
    assert "row 6" in duplicates[0][2] and "row 2 of b.csv" in duplicates[1][2]
    assert (job.status, job.failed) == (ImportStatus.SUCCEEDED, 0)  # reported, not failed
    assert (await students_of_names(db, org))[:2] == ["Ann Later", "Bob Again"]
    async with db.transaction(org.id) as session:  # the job's keys are gone with it
        left = await session.execute(text("SELECT count(*) FROM import_keys"))
        assert left.scalar() == 0


async def students_of_names(db: Database, org: Org) -> list[str]:
    async with db.transaction(org.id) as session:
        rows = await session.execute(select(Student.name).order_by(Student.external_id))
        return list(rows.scalars())


async def test_a_run_whose_job_another_worker_claimed_stops_and_writes_no_more(
    db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker silent past the stale time loses its claim; when it wakes, its next batch
    is rolled back and it stops, so the two never write the same rows."""
    from app.imports import apply

    job_id = await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(250)))
    original, calls = apply.apply, 0

    async def claimed_meanwhile(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # another worker claims the job while this one works
            async with db.admin_transaction() as session:
                await session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job_id)
                    .values(attempts=ImportJob.attempts + 1)
                )
        return await original(*args, **kwargs)

    monkeypatch.setattr(apply, "apply", claimed_meanwhile)
    assert await processing.process(db, job_id, batch_size=100, stale=STALE) is None
    async with db.transaction(org.id) as session:
        job = (await session.execute(select(ImportJob).where(ImportJob.id == job_id))).scalar_one()
    assert (job.status, job.processed, job.attempts) == (ImportStatus.RUNNING, 100, 2)
    assert await count(db, org, Student) == 100  # the second batch was rolled back


async def test_a_bug_in_a_batch_ends_the_job_failed_with_an_error_id_not_running(
    db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.imports import apply

    job_id = await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(250)))
    original, calls = apply.apply, 0

    async def broken_second_batch(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("a bug")
        return await original(*args, **kwargs)

    monkeypatch.setattr(apply, "apply", broken_second_batch)
    job = await run(db, job_id)
    assert (job.status, job.processed) == (ImportStatus.FAILED, 100)  # batch one stays
    (error,) = await errors_of(db, org, job_id)
    assert error.code == "INTERNAL_SERVER_ERROR" and "errorId" in error.message
    async with db.transaction(org.id) as session:  # the upload's bytes are gone with the run
        chunks = await session.execute(text("SELECT count(*) FROM import_file_chunks"))
        assert chunks.scalar() == 0


async def test_a_job_whose_workers_keep_dying_fails_after_its_attempts(
    db: Database, org: Org
) -> None:
    job_id = await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(3)))
    async with db.admin_transaction() as session:
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(
                status=ImportStatus.RUNNING,
                attempts=processing.MAX_ATTEMPTS,
                heartbeat_at=func.now() - text("interval '1 hour'"),
            )
        )
    job = await run(db, job_id)
    assert (job.status, job.processed) == (ImportStatus.FAILED, 0)
    (error,) = await errors_of(db, org, job_id)
    assert "stopped 5 times" in error.message


async def test_a_batch_whose_commit_answer_is_lost_is_not_applied_twice(
    db: Database, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection fails after COMMIT went through: the retry finds the batch in the
    job's progress and goes on, instead of counting its rows twice."""
    from sqlalchemy.exc import OperationalError

    class ConnectionLost(Exception):
        sqlstate = "08006"  # connection_failure: transient, so the batch would be retried

    original, calls = processing._commit_batch, 0

    async def answer_lost(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        await original(*args, **kwargs)
        if calls == 2:
            raise OperationalError("COMMIT", {}, ConnectionLost())

    monkeypatch.setattr(processing, "_commit_batch", answer_lost)
    job_id = await start(db, org, ImportKind.ROSTER, ("r.csv", roster_csv(250)))
    job = await run(db, job_id)
    assert calls == 3  # three batches, none run twice
    assert (job.status, job.processed, job.inserted) == (ImportStatus.SUCCEEDED, 250, 250)
    assert not [e for e in await errors_of(db, org, job_id) if e.code == "DUPLICATE"]
