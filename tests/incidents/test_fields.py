"""An incident's text fields are stored as Validator.text cleans them, within the contracts."""

from __future__ import annotations

import unicodedata
import uuid

import pytest

from app.core import contracts as C
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from tests.conftest import make_org
from tests.factories import log, make_student
from tests.incidents.support import correct, incidents_of, log_logged

DECOMPOSED = unicodedata.normalize("NFD", "café")  # "e" + U+0301
COMPOSED = unicodedata.normalize("NFC", "café")


async def test_text_fields_are_stored_trimmed_and_nfc(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    assert DECOMPOSED != COMPOSED
    logged = await log_logged(
        db,
        org,
        student.id,
        category=f" {DECOMPOSED} ",
        note=f"  met at the {DECOMPOSED}\n",
        class_code=" 8B ",
        lesson_session_id=" \t ",
        antecedent=" a ",
        behaviour=f"{DECOMPOSED} ",
        consequence="   ",
    )
    (row,) = await incidents_of(db, org, student.id)
    for incident in (logged.incident, row):
        assert incident.category == COMPOSED
        assert incident.note == f"met at the {COMPOSED}"
        assert incident.class_code == "8B"
        assert incident.lesson_session_id is None
        assert (incident.antecedent, incident.behaviour, incident.consequence) == (
            "a",
            COMPOSED,
            None,
        )


async def test_a_blank_class_code_is_the_students(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org, class_code="7A")
    logged = await log_logged(db, org, student.id, class_code="  ")
    assert logged.incident.class_code == "7A"


async def test_a_correction_stores_the_note_cleaned_and_blank_clears_it(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    incident = await log(db, org, student.id)
    result = await correct(db, org, incident.id, note=f" {DECOMPOSED} ", category=" late ")
    assert (result.incident.note, result.incident.category) == (COMPOSED, "late")
    (row,) = await incidents_of(db, org, student.id)
    assert (row.note, row.category) == (COMPOSED, "late")
    await correct(db, org, incident.id, note="  ")
    (row,) = await incidents_of(db, org, student.id)
    assert row.note is None


async def test_a_resend_differing_only_in_whitespace_is_the_same_payload(db: Database) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    client_id = uuid.uuid4()
    first = await log_logged(db, org, student.id, client_id=client_id, class_code=" 8B ")
    again = await log_logged(db, org, student.id, client_id=client_id, class_code="8B", note="   ")
    assert first.created and not again.created
    assert again.incident.id == first.incident.id


@pytest.mark.parametrize(
    ("field", "name", "contract"),
    [
        ("category", "category", C.Category),
        ("note", "note", C.Note),
        ("class_code", "classCode", C.ClassCode),
        ("lesson_session_id", "lessonSessionId", C.SessionId),
        ("antecedent", "antecedent", C.AbcNote),
        ("behaviour", "behaviour", C.AbcNote),
        ("consequence", "consequence", C.AbcNote),
    ],
)
async def test_the_limits_are_the_contracts(
    db: Database, field: str, name: str, contract: C.Contract
) -> None:
    org = await make_org(db)
    student = await make_student(db, org)
    assert contract.max_length is not None
    longest = "x" * contract.max_length
    logged = await log_logged(db, org, student.id, **{field: f" {longest} "})  # trimmed first
    assert getattr(logged.incident, field) == longest
    with pytest.raises(ServiceError) as caught:
        await log_logged(db, org, student.id, **{field: longest + "x"})
    assert [(e.field, e.code) for e in caught.value.errors] == [(name, ErrorCode.TOO_LONG)]
