"""IEP progress reports (`python -m bench.iep_reports`, and part of `make bench`): prints JSON.

In the demo school's database, 30 students each with 5 goals of 60 probes (weekly, the
last 60 weeks). Timed as the worker makes them (`app.iep.reports.build`: read in one
transaction, render off the event loop), in this process:

- one student's report, PDF and DOCX (target: under 2 s);
- a caseload of the 30 as one ZIP, PDF and DOCX (target: under 30 s);
- beside the raw floor of the same run: the five statements alone (`gather`), so the
  ratio says how much of a report is reading and how much is rendering.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from app.iep import reports
from app.iep.models import GoalDirection, GoalStatus, IepGoal, IepProbe
from app.students.models import Student
from bench.demo import Demo, demo_school

STUDENTS, GOALS, PROBES = 30, 5, 60
NAMES = ("Zofia Łukasiewicz", "Jürgen Müller", "ليلى حداد", "Amara Okafor", "Niamh Brennan")


async def _caseload(demo: Demo) -> list[uuid.UUID]:
    """30 students of class IEP-BENCH with 5 goals of 60 probes each."""
    org_id, today = demo.org.id, date.today()
    start = today - timedelta(weeks=PROBES)
    students, goals, probes = [], [], []
    for i in range(STUDENTS):
        sid = uuid.uuid4()
        students.append(
            {
                "id": sid,
                "org_id": org_id,
                "external_id": f"IEPB-{i:03d}",
                "name": f"{NAMES[i % len(NAMES)]} {i}",
                "class_code": "IEP-BENCH",
                "year_group": 6,
                "case_manager": "Ms. Bench",
            }
        )
        for g in range(GOALS):
            gid = uuid.uuid4()
            goals.append(
                {
                    "id": gid,
                    "org_id": org_id,
                    "student_id": sid,
                    "area": ("Reading", "Writing", "Maths", "Behaviour", "Speech")[g],
                    "title": f"Goal {g + 1}: measurable annual goal for area {g + 1}",
                    "baseline": 40,
                    "target": 80,
                    "unit": "words correct a minute",
                    "direction": GoalDirection.INCREASE,
                    "start_date": start,
                    "due_date": today + timedelta(weeks=20),
                    "status": GoalStatus.ACTIVE,
                    "off_track_streak": 0,
                    "created_by": "bench",
                }
            )
            for k in range(PROBES):
                probes.append(
                    {
                        "id": uuid.uuid4(),
                        "org_id": org_id,
                        "goal_id": gid,
                        "student_id": sid,
                        "taken_at": datetime.combine(
                            start + timedelta(weeks=k), datetime.min.time(), tzinfo=UTC
                        ),
                        "value": 40 + k * 0.5 + (k % 3),
                        "note": "cold read, grade-level passage" if k % 4 == 0 else None,
                        "recorded_by": "bench",
                    }
                )
    async with demo.db.transaction(org_id) as session:
        await session.execute(insert(Student), students)
        await session.execute(insert(IepGoal), goals)
        await session.execute(insert(IepProbe), probes)
    return [s["id"] for s in students]


async def _timed(fn: Any, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        runs.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(runs), 3), "max_s": round(max(runs), 3)}


async def run(demo: Demo) -> dict[str, Any]:
    ids = await _caseload(demo)
    today = date.today()
    period = (today - timedelta(weeks=12), today)

    def request(student_ids: list[uuid.UUID], fmt: reports.ReportFormat, caseload: bool) -> Any:
        return reports.ReportRequest(student_ids, *period, fmt, caseload, "IEP-BENCH")

    async def read_only(student_ids: list[uuid.UUID]) -> None:
        async with demo.db.transaction(demo.org.id) as session:
            await reports.gather(
                session,
                org_id=demo.org.id,
                student_ids=student_ids,
                period_start=period[0],
                period_end=period[1],
                now=datetime.now(UTC),
            )

    out: dict[str, Any] = {"students": STUDENTS, "goals_each": GOALS, "probes_each_goal": PROBES}
    out["read_only_one_student"] = await _timed(lambda: read_only(ids[:1]), 5)
    out["read_only_caseload"] = await _timed(lambda: read_only(ids), 3)
    for fmt in reports.ReportFormat:
        key = fmt.value.lower()
        one = await _timed(
            lambda fmt=fmt: reports.build(
                demo.db,
                org_id=demo.org.id,
                request=request(ids[:1], fmt, False),
                now=datetime.now(UTC),
            ),
            5,
        )
        many = await _timed(
            lambda fmt=fmt: reports.build(
                demo.db,
                org_id=demo.org.id,
                request=request(ids, fmt, True),
                now=datetime.now(UTC),
            ),
            1,
        )
        out[f"one_student_{key}"] = {**one, "target_s": 2}
        out[f"caseload_{key}"] = {**many, "target_s": 30}
        out[f"one_student_{key}_over_read"] = round(
            one["median_s"] / max(out["read_only_one_student"]["median_s"], 1e-6), 1
        )
    return out


async def main() -> None:
    async with demo_school() as demo:
        figures = await run(demo)
    print(json.dumps({"iep_reports": figures}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
