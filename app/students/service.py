"""Students: create/update by external SIS id, support notes, lookups and listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.core.pagination import Page, SortKey, apply_keyset, to_page
from app.students.models import Student

NAME_ORDER = (SortKey(Student.name), SortKey(Student.id))
RISK_ORDER = (
    SortKey(Student.risk_tier, descending=True),
    SortKey(Student.name),
    SortKey(Student.id),
)


@dataclass
class StudentData:
    external_id: str
    name: str
    class_code: str | None = None
    year_group: int | None = None
    campus: str | None = None
    support_level: int | None = None
    support_notes: str | None = None


@dataclass
class StudentFilter:
    class_code: str | None = None
    year_group: int | None = None
    campus: str | None = None
    min_risk_tier: int | None = None
    name_contains: str | None = None


def _validate(data: StudentData, prefix: str = "") -> StudentData:
    v = Validator(prefix)
    external_id = v.text("externalId", data.external_id, max_length=64, required=True)
    name = v.text("name", data.name, max_length=200, required=True)
    class_code = v.text("classCode", data.class_code, max_length=32)
    campus = v.text("campus", data.campus, max_length=100)
    v.int_range("yearGroup", data.year_group, -1, 13)
    v.int_range("supportLevel", data.support_level, 0, 3)
    notes = v.text("supportNotes", data.support_notes, max_length=10_000)
    v.raise_if_any()
    return StudentData(
        external_id=external_id or "",
        name=name or "",
        class_code=class_code,
        year_group=data.year_group,
        campus=campus,
        support_level=data.support_level,
        support_notes=notes,
    )


async def get(
    session: AsyncSession, *, org_id: uuid.UUID, student_id: uuid.UUID, lock: bool = False
) -> Student | None:
    stmt = select(Student).where(Student.org_id == org_id, Student.id == student_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def require(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_id: uuid.UUID,
    lock: bool = False,
    field: str = "studentId",
) -> Student:
    student = await get(session, org_id=org_id, student_id=student_id, lock=lock)
    if student is None:
        raise ServiceError.single(field, "no such student", ErrorCode.NOT_FOUND)
    return student


async def get_many(
    session: AsyncSession, *, org_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Student]:
    rows = await session.execute(
        select(Student).where(Student.org_id == org_id, Student.id.in_(list(ids)))
    )
    return {s.id: s for s in rows.scalars()}


async def unknown_student_errors(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_ids: Sequence[uuid.UUID],
    list_name: str | None,
) -> list[FieldError]:
    """For a batch referring to students by id: an error per item whose student does not exist
    in the org, naming `{list_name}[i].studentId` whatever the batch size (a batch of one is
    `{list_name}[0].studentId`). `list_name=None` is for an input that is one object, not a
    list: its error names plain `studentId`."""
    found = await get_many(session, org_id=org_id, ids=list(set(student_ids)))
    return [
        FieldError(
            "studentId" if list_name is None else f"{list_name}[{i}].studentId",
            "no such student",
            ErrorCode.NOT_FOUND,
        )
        for i, sid in enumerate(student_ids)
        if sid not in found
    ]


async def upsert(
    session: AsyncSession, *, actor: Principal, data: StudentData
) -> tuple[Student, bool]:
    """Create or update a student by external SIS id. Returns (student, created)."""
    data = _validate(data)
    student = (
        await session.execute(
            select(Student)
            .where(Student.org_id == actor.org_id, Student.external_id == data.external_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    created = student is None
    before = None if student is None else audit.snapshot(student)
    if student is None:
        student = Student(org_id=actor.org_id, external_id=data.external_id, support_level=0)
        session.add(student)
    student.name = data.name
    student.class_code = data.class_code
    student.year_group = data.year_group
    student.campus = data.campus
    if data.support_level is not None:
        student.support_level = data.support_level
    if data.support_notes is not None:
        student.support_notes = data.support_notes
    await audit.record(
        session,
        actor=actor,
        action="student.create" if created else "student.update",
        entity=student,
        before=before,
    )
    return student, created


async def update_support(
    session: AsyncSession,
    *,
    actor: Principal,
    student_id: uuid.UUID,
    support_level: int | None,
    support_notes: str | None,
) -> Student:
    v = Validator()
    v.int_range("supportLevel", support_level, 0, 3)
    notes = v.text("supportNotes", support_notes, max_length=10_000)
    if support_level is None and support_notes is None:
        v.add("supportLevel", "give supportLevel or supportNotes", ErrorCode.REQUIRED)
    v.raise_if_any()
    student = await require(session, org_id=actor.org_id, student_id=student_id, lock=True)
    before = audit.snapshot(student)
    if support_level is not None:
        student.support_level = support_level
    if support_notes is not None:
        student.support_notes = notes
    await audit.record(
        session, actor=actor, action="student.update_support", entity=student, before=before
    )
    return student


def filtered(org_id: uuid.UUID, flt: StudentFilter | None) -> Select[Student]:
    stmt = select(Student).where(Student.org_id == org_id)
    if flt is None:
        return stmt
    if flt.class_code is not None:
        stmt = stmt.where(Student.class_code == flt.class_code)
    if flt.year_group is not None:
        stmt = stmt.where(Student.year_group == flt.year_group)
    if flt.campus is not None:
        stmt = stmt.where(Student.campus == flt.campus)
    if flt.min_risk_tier is not None:
        stmt = stmt.where(Student.risk_tier >= flt.min_risk_tier)
    if flt.name_contains:
        escaped = flt.name_contains.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        stmt = stmt.where(Student.name.ilike(f"%{escaped}%", escape="\\"))
    return stmt


async def list_page(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    flt: StudentFilter | None,
    first: int,
    after: str | None,
    order: Sequence[SortKey] = NAME_ORDER,
) -> Page[Student]:
    stmt = apply_keyset(filtered(org_id, flt), order, first, after)
    rows = (await session.execute(stmt)).scalars().all()
    return to_page(rows, order, first, after)
