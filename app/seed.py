"""Demo data (`schoolgraph seed --demo`): a school of ~300 students in 12 classes, four weeks
of attendance, two diagnostic windows, ~1,000 incidents, and students at every risk tier.

Everything goes through the same services the API uses, so the demo obeys every rule.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.assessments import flows as assessment_flows
from app.assessments import service as assessments
from app.assessments.models import AssessmentKind
from app.attendance import flows as attendance_flows
from app.attendance import service as attendance
from app.auth.principal import Principal, system_principal
from app.db import Database
from app.iep import flows as iep_flows
from app.iep import service as iep
from app.iep.models import GoalDirection
from app.incidents import flows as incident_flows
from app.incidents import service as incidents
from app.incidents.models import IncidentKind
from app.orgs import service as orgs
from app.students import service as students
from app.students.models import Student

FIRST = "Ava Ben Chloe Dev Ella Finn Grace Hugo Isla Jay Kai Lena Maya Noah Omar Priya Quinn Rosa "
FIRST += "Sam Tara Uma Vik Wren Xena Yusuf Zoe Aria Leo Mila Eli Nia Theo Ivy Rami Sofia Arlo"
LAST = "Okafor Smith Nguyen Garcia Patel Kowalski Brown Haddad Jones Silva Tanaka Murphy Cohen "
LAST += "Mensah Rossi Dubois Khan Larsen Walsh Ortiz Novak Ahmed Fischer Reyes Costa Yilmaz"

POSITIVE = [
    ("excellent_contribution", "Led the group discussion and helped others reach the answer."),
    ("kindness", "Stayed behind to help a classmate who was upset."),
    ("effort", "Kept going with a hard problem set without giving up."),
    ("homework", "Homework finished early and to a high standard."),
    ("leadership", "Organised the clean-up after the science practical."),
]
NEGATIVE = [
    ("disruptive", "Talking out of turn and not following instructions during the starter."),
    ("phone", "Using a phone in lesson after being asked to put it away."),
    ("late", "Arrived ten minutes late without a note."),
    ("off_task", "Off task for most of the lesson, distracted others at the table."),
    ("defiance", "Refused to move seats when asked, argued with the teacher."),
    ("unkind", "Made unkind comments about a classmate's work."),
    ("equipment", "No equipment again; could not start the practical task."),
]
NEUTRAL = [("note", "Seemed tired today; checked in after the lesson, said they were fine.")]
SUPPORT_NOTES = [
    "Reading support twice a week; responds well to chunked instructions.",
    "Sits near the front; uses a movement break card.",
    "Check-in/check-out with the pastoral lead each morning.",
    "English language learner; provide key vocabulary in advance.",
]
PLACEMENTS = [
    ("Mid or Above Grade Level", 0),
    ("Early On Grade Level", 0),
    ("1 Grade Level Below", -1),
    ("2 Grade Levels Below", -2),
    ("3 or More Grade Levels Below", -3),
]


def school_days(end: date, count: int) -> list[date]:
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


async def seed_demo(db: Database, *, slug: str = "demo", students_count: int = 300) -> bool:
    """Create the demo school. Returns False (and does nothing) when it already exists."""
    async with db.admin_transaction() as session:
        if await orgs.get_by_slug(session, slug=slug) is not None:
            return False
        org = await orgs.create_org(session, slug=slug, name="Demo Academy")
    actor = system_principal(org.id, slug, sub="seed")
    rng = random.Random(42)
    firsts, lasts = FIRST.split(), LAST.split()
    classes = [f"{year}{letter}" for year in (7, 8, 9, 10) for letter in "ABC"]

    async with db.transaction(org.id) as session:
        ids = []
        for i in range(students_count):
            cls = classes[i % len(classes)]
            level = rng.choices([0, 1, 2, 3], weights=[70, 18, 8, 4])[0]
            student, _ = await students.upsert(
                session,
                actor=actor,
                data=students.StudentData(
                    external_id=f"S{10000 + i}",
                    name=f"{rng.choice(firsts)} {rng.choice(lasts)}",
                    class_code=cls,
                    year_group=int(cls[:-1]),
                    campus="North" if i % 2 else "South",
                    support_level=level,
                    support_notes=rng.choice(SUPPORT_NOTES) if level else None,
                ),
            )
            ids.append(student.id)

    today = datetime.now(UTC).date()
    days = school_days(today - timedelta(days=1), 20)
    # A few students are chronically (or severely) absent; most are not.
    absence_rate = {sid: rng.choice([0.01, 0.02, 0.03, 0.05]) for sid in ids}
    for sid in rng.sample(ids, 24):
        absence_rate[sid] = rng.choice([0.12, 0.15, 0.25])
    await _attendance(db, actor, ids, days, absence_rate, rng)
    await _diagnostics(db, actor, ids, today, rng)
    await _incidents(db, actor, ids, classes, today, rng)
    await _iep_goals(db, actor, ids, today, rng)
    return True


# (area, goal, baseline, target, unit, direction)
IEP_GOALS = (
    (
        "Reading fluency",
        "Reads a grade-level passage aloud at 90 words correct a minute",
        55,
        90,
        "words correct a minute",
        "INCREASE",
    ),
    (
        "Written expression",
        "Writes a paragraph of five complete sentences on a given topic",
        1,
        5,
        "complete sentences",
        "INCREASE",
    ),
    (
        "Behaviour",
        "Stays in the lesson without leaving the room unprompted",
        6,
        1,
        "exits a week",
        "DECREASE",
    ),
)


async def _iep_goals(
    db: Database, actor: Principal, ids: list[uuid.UUID], today: date, rng: random.Random
) -> None:
    """Students with the highest support level have IEP goals, probed weekly since the term
    began: some on track, some not (for progress reports and the IEP_PROGRESS factor)."""
    start = today - timedelta(weeks=10)
    async with db.transaction(actor.org_id) as session:
        supported = list(
            (
                await session.execute(
                    select(Student.id).where(
                        Student.org_id == actor.org_id, Student.support_level == 3
                    )
                )
            ).scalars()
        )[:8]
    for n, sid in enumerate(supported):
        async with db.transaction(actor.org_id) as session:
            await students.update_support(
                session, actor=actor, student_id=sid, case_manager="Ms. Rivera (SENCo)"
            )
            probes = []
            for area, title, baseline, target, unit, direction in IEP_GOALS[: 2 + n % 2]:
                goal = await iep.create_goal(
                    session,
                    actor=actor,
                    student_id=sid,
                    changes=iep.GoalChanges(
                        area=area,
                        title=title,
                        baseline=baseline,
                        target=target,
                        unit=unit,
                        direction=GoalDirection(direction),
                        start_date=start,
                        due_date=today + timedelta(weeks=30),
                    ),
                )
                # On track for most; flat for every third student's goals.
                pace = 0.0 if n % 3 == 2 else (target - baseline) / 30 * rng.uniform(1.0, 1.6)
                for week in range(10):
                    at = datetime.combine(start + timedelta(weeks=week), datetime.min.time(), UTC)
                    value = (
                        baseline
                        + pace * week
                        + rng.uniform(-0.5, 0.5) * abs(target - baseline) / 20
                    )
                    probes.append(iep.ProbeData(goal.id, at.replace(hour=10), round(value, 1)))
            await iep_flows.record_probes(
                session, actor=actor, probes=probes, now=datetime.now(UTC)
            )


async def _attendance(
    db: Database,
    actor: Principal,
    ids: list[uuid.UUID],
    days: list[date],
    absence_rate: dict[uuid.UUID, float],
    rng: random.Random,
) -> None:
    for day in days:
        batch = []
        for sid in ids:
            roll = rng.random()
            rate = absence_rate[sid]
            if roll < rate:
                code = rng.choice(["A", "I", "U", "E"])
                batch.append(attendance.DayInput(sid, day, 6, all_day_code=code))
            elif roll < rate * 2:
                batch.append(attendance.DayInput(sid, day, 6, period_codes={"1": "T"}))
            elif roll < rate * 2.5:
                batch.append(attendance.DayInput(sid, day, 6, period_codes={"5": "A", "6": "A"}))
            else:
                batch.append(attendance.DayInput(sid, day, 6))
        async with db.transaction(actor.org_id) as session:
            await attendance_flows.record_days(session, actor=actor, days=batch, source="seed")


async def _diagnostics(
    db: Database,
    actor: Principal,
    ids: list[uuid.UUID],
    today: date,
    rng: random.Random,
) -> None:
    windows = [today - timedelta(days=70), today - timedelta(days=7)]
    items = []
    for sid in ids:
        for subject, typical in (("Reading", 30), ("MATH", 25)):
            base = rng.randint(420, 560)
            placement, _ = rng.choices(PLACEMENTS, weights=[42, 38, 16, 3, 1])[0]
            for n, taken in enumerate(windows):
                items.append(
                    assessments.AssessmentData(
                        student_id=sid,
                        kind=AssessmentKind.DIAGNOSTIC,
                        subject=subject,
                        taken_on=taken,
                        name=f"Diagnostic {n + 1}",
                        scale_score=base + n * rng.randint(0, 30),
                        placement=f"{rng.choice(['Early', 'Mid', 'Late'])} {rng.randint(5, 10)}",
                        relative_placement=placement,
                        percentile=rng.randint(5, 95),
                        typical_growth=typical,
                        lexile=f"{rng.randint(500, 1100)}L" if subject == "Reading" else None,
                    )
                )
    for start in range(0, len(items), 400):
        async with db.transaction(actor.org_id) as session:
            await assessment_flows.record_many(
                session, actor=actor, items=items[start : start + 400], source="seed"
            )


async def _incidents(
    db: Database,
    actor: Principal,
    ids: list[uuid.UUID],
    classes: list[str],
    today: date,
    rng: random.Random,
) -> None:
    frequent = set(rng.sample(ids, 20))  # a handful of students with a difficult fortnight
    planned = []
    for _ in range(1000):
        sid = rng.choice(list(frequent)) if rng.random() < 0.2 else rng.choice(ids)
        recent = sid in frequent and rng.random() < 0.7
        day_back = rng.randint(0, 6) if recent else rng.randint(0, 27)
        when = datetime.combine(
            today - timedelta(days=day_back),
            time(hour=rng.randint(8, 15), minute=rng.randint(0, 59)),
            tzinfo=UTC,
        )
        when = min(when, datetime.now(UTC) - timedelta(minutes=1))
        kind = rng.choices(
            [IncidentKind.POSITIVE, IncidentKind.NEGATIVE, IncidentKind.NEUTRAL],
            weights=[45, 45, 10] if sid not in frequent else [10, 85, 5],
        )[0]
        pool = {
            IncidentKind.POSITIVE: POSITIVE,
            IncidentKind.NEGATIVE: NEGATIVE,
            IncidentKind.NEUTRAL: NEUTRAL,
        }[kind]
        category, note = rng.choice(pool)
        planned.append((when, sid, kind, category, note))
    planned.sort(key=lambda p: p[0])
    for when, sid, kind, category, note in planned:
        async with db.transaction(actor.org_id) as session:
            await incident_flows.log_incident(
                session,
                actor=actor,
                data=incidents.IncidentData(
                    student_id=sid,
                    kind=kind,
                    category=category,
                    note=note,
                    occurred_at=when,
                    lesson_session_id=f"lesson_{when:%Y%m%d}_p{(when.hour - 8) % 6 + 1}",
                    source="seed",
                ),
            )
