"""Students: create/update by external SIS id, support notes, lookups and listing."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal, TypeAlias, TypeVar

from sqlalchemy import Executable, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import contracts as C
from app.core.errors import ErrorCode, FieldError, ServiceError, Validator
from app.core.pagination import Page, PageRequest, SortKey, apply_keyset, to_page
from app.db import driver_fetchrow, loaded_from_driver
from app.events import service as events
from app.events.service import Topic
from app.students.models import Student

NAME_ORDER = (SortKey(Student.name), SortKey(Student.id))
RISK_ORDER = (
    SortKey(Student.risk_tier, descending=True),
    SortKey(Student.name),
    SortKey(Student.id),
)


class Unset(enum.Enum):
    """A value the caller did not give, as opposed to None (which clears the column)."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET
T = TypeVar("T")
# A field of a partial update: UNSET keeps the stored value, anything else replaces it.
Maybe: TypeAlias = T | Literal[Unset.UNSET]


@dataclass
class StudentData:
    """An upsert. Optional fields left UNSET keep what is stored (a new student gets the
    column's default); None clears them (support_level: back to 0)."""

    external_id: str
    name: str
    class_code: Maybe[str | None] = UNSET
    year_group: Maybe[int | None] = UNSET
    campus: Maybe[str | None] = UNSET
    support_level: Maybe[int | None] = UNSET
    support_notes: Maybe[str | None] = UNSET


@dataclass
class StudentFilter:
    class_code: str | None = None
    year_group: int | None = None
    campus: str | None = None
    min_risk_tier: int | None = None
    name_contains: str | None = None


def validate(data: StudentData) -> dict[str, Any]:
    """The columns this upsert writes, cleaned: the two keys always, the rest when given."""
    v = Validator()
    values: dict[str, Any] = {
        "external_id": v.text(
            "externalId", data.external_id, max_length=C.ExternalId.length, required=True
        ),
        "name": v.text("name", data.name, max_length=C.Name.length, required=True),
    }
    if data.class_code is not UNSET:
        values["class_code"] = v.text("classCode", data.class_code, max_length=C.ClassCode.length)
    if data.year_group is not UNSET:
        v.int_range("yearGroup", data.year_group, *C.YearGroup.int_bounds)
        values["year_group"] = data.year_group
    if data.campus is not UNSET:
        values["campus"] = v.text("campus", data.campus, max_length=C.Campus.length)
    if data.support_level is not UNSET:
        v.int_range("supportLevel", data.support_level, *C.SupportLevel.int_bounds)
        values["support_level"] = data.support_level or 0
    if data.support_notes is not UNSET:
        values["support_notes"] = v.text(
            "supportNotes", data.support_notes, max_length=C.Note.length
        )
    v.raise_if_any()
    return values


@lru_cache(maxsize=16)
def _get_sql(lock: bool, also: tuple[str, ...]) -> str:
    extra = "".join(f", {expression} AS also_{i}" for i, expression in enumerate(also))
    return f"SELECT s.*{extra} FROM students AS s WHERE s.org_id = $1 AND s.id = $2" + (
        " FOR UPDATE OF s" if lock else ""
    )


async def get(
    session: AsyncSession, *, org_id: uuid.UUID, student_id: uuid.UUID, lock: bool = False
) -> Student | None:
    """The student (row-locked with `lock`, as the journeys that change it take it)."""
    row = await driver_fetchrow(session, _get_sql(lock, ()), org_id, student_id)
    return None if row is None else loaded_from_driver(session, Student, row)


async def lock_with(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    student_id: uuid.UUID,
    also: tuple[str, ...],
    field: str = "studentId",
) -> tuple[Student, tuple[Any, ...]]:
    """`require(lock=True)`, and in the same round trip the values of the SQL expressions
    `also` (other domains' scalar subqueries over `s`, the student's row): the journeys
    that lock a student read what else they need with it."""
    row = await driver_fetchrow(session, _get_sql(True, also), org_id, student_id)
    if row is None:
        raise _no_such_student(field)
    return loaded_from_driver(session, Student, row), tuple(
        row[f"also_{i}"] for i in range(len(also))
    )


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
        raise _no_such_student(field)
    return student


def _no_such_student(field: str) -> ServiceError:
    return ServiceError.single(field, "no such student", ErrorCode.NOT_FOUND)


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


_OLD = audit.old_columns(Student)


async def upsert(
    session: AsyncSession, *, actor: Principal, data: StudentData
) -> tuple[Student, bool]:
    """Create or update a student by external SIS id, in one statement that cannot race: a
    concurrent upsert of the same id waits on the row lock, then updates. Omitted fields keep
    their value. Returns (student, created)."""
    ((student, created),) = await upsert_many(session, actor=actor, items=[data])
    return student, created


async def upsert_many(
    session: AsyncSession, *, actor: Principal, items: Sequence[StudentData]
) -> list[tuple[Student, bool]]:
    """`upsert` for many (an import's batch), in one statement per set of given fields
    (a file's rows all give the same), each audited and announced, in item order. A later
    item with the same external id wins. Items are validated as `upsert` validates."""
    values = [validate(data) for data in items]
    latest: dict[str, dict[str, Any]] = {}
    for v in values:
        latest[v["external_id"]] = v
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in latest.values():
        shapes.setdefault(tuple(sorted(v)), []).append(v)
    saved: dict[str, tuple[Student, dict[str, Any] | None]] = {}
    for columns, rows in shapes.items():
        rows.sort(key=lambda r: r["external_id"])  # concurrent batches lock in one order
        params: dict[str, Any] = {
            "id": [uuid.uuid4() for _ in rows],
            "org_id": [actor.org_id] * len(rows),
            **{c: [r[c] for r in rows] for c in columns},
        }
        for row in await session.execute(_upsert_statement(columns), params):
            student: Student = row[0]
            saved[student.external_id] = (student, audit.before_upsert(Student, row._mapping))
    created = [(s, None) for s, before in saved.values() if before is None]
    updated = [(s, before) for s, before in saved.values() if before is not None]
    await audit.record_many(session, actor=actor, action="student.create", changes=created)
    await audit.record_many(session, actor=actor, action="student.update", changes=updated)
    await events.record(
        session,
        org_id=actor.org_id,
        topic=Topic.STUDENT_CHANGED,
        students={
            s.id: {"change": "create" if before is None else "update"}
            for s, before in saved.values()
        },
    )
    out = []
    for v in values:
        student, before = saved[v["external_id"]]
        out.append((student, before is None))
    return out


@lru_cache(maxsize=32)
def _upsert_statement(columns: tuple[str, ...]) -> Executable:
    """The batch upsert for one set of given columns: built (compiled, prepared) once, the
    batch bound as an array per column and unnested (see attendance's _UPSERT_DAYS)."""
    table = Student.__table__
    names = ("id", "org_id", *columns)
    arrays = [bindparam(n, type_=ARRAY(table.c[n].type)) for n in names]
    rows = func.unnest(*arrays).table_valued(*names).render_derived(with_types=False)
    stmt = pg_insert(Student).from_select(
        [table.c[n] for n in names], select(*(rows.c[n] for n in names))
    )
    changes: dict[str, Any] = {c: stmt.excluded[c] for c in columns if c != "external_id"}
    return (
        stmt.on_conflict_do_update(
            index_elements=[Student.org_id, Student.external_id],
            set_={**changes, "updated_at": func.now()},
        )
        .returning(Student, *_OLD)
        .execution_options(populate_existing=True, dml_strategy="orm")
    )


async def _changed(session: AsyncSession, student: Student, change: str) -> None:
    await events.record(
        session,
        org_id=student.org_id,
        topic=Topic.STUDENT_CHANGED,
        students={student.id: {"change": change}},
    )


async def update_support(
    session: AsyncSession,
    *,
    actor: Principal,
    student_id: uuid.UUID,
    support_level: Maybe[int | None] = UNSET,
    support_notes: Maybe[str | None] = UNSET,
    case_manager: Maybe[str | None] = UNSET,
) -> Student:
    """Change what is given: None clears the notes or the case manager, or puts the level
    back to 0."""
    v = Validator()
    if support_level is UNSET and support_notes is UNSET and case_manager is UNSET:
        v.add(
            "supportLevel",
            "give supportLevel, supportNotes or caseManager",
            ErrorCode.REQUIRED,
        )
    if support_level is not UNSET:
        v.int_range("supportLevel", support_level, *C.SupportLevel.int_bounds)
    notes = None
    if support_notes is not UNSET:
        notes = v.text("supportNotes", support_notes, max_length=C.Note.length)
    manager = None
    if case_manager is not UNSET:
        manager = v.text("caseManager", case_manager, max_length=C.Person.length)
    v.raise_if_any()
    student = await require(session, org_id=actor.org_id, student_id=student_id, lock=True)
    before = audit.snapshot(student)
    if support_level is not UNSET:
        student.support_level = support_level or 0
    if support_notes is not UNSET:
        student.support_notes = notes
    if case_manager is not UNSET:
        student.case_manager = manager
    await audit.record(
        session, actor=actor, action="student.update_support", entity=student, before=before
    )
    await _changed(session, student, "support")
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
    page: PageRequest,
    order: Sequence[SortKey] = NAME_ORDER,
    ids: Sequence[uuid.UUID] | None = None,
) -> Page[Student]:
    """A page of the org's students; `ids`: only these (a list computed elsewhere, such as
    the students a trajectory says are heading into a tier)."""
    stmt = filtered(org_id, flt)
    if ids is not None:
        stmt = stmt.where(Student.id.in_(list(ids)))
    stmt = apply_keyset(stmt, order, page)
    rows = (await session.execute(stmt)).scalars().all()
    return to_page(rows, order, page)
