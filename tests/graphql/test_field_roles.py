"""Roles by field, on every path: every mutation of the served schema whose input carries a
guarded field refuses it to every role not allowed to write it, and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
)
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db import Database
from app.graphql.permissions import roles_note, write_roles
from app.graphql.schema import schema
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert


@dataclass(frozen=True)
class Guarded:
    mutation: str
    path: tuple[tuple[str, bool], ...]  # (input field, is a list) from `input` down
    roles: tuple[Role, ...]
    graphql_type: str  # the guarded field's named type

    @property
    def error_path(self) -> str:
        """How the refusal names the field: `supportNotes`, `items[0].supportNotes`."""
        return ".".join(f"{name}[0]" if is_list else name for name, is_list in self.path)


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _walk(
    mutation: str, type_: GraphQLInputType, path: tuple[tuple[str, bool], ...], seen: set[str]
) -> Iterator[Guarded]:
    if not isinstance(type_, GraphQLInputObjectType) or type_.name in seen:
        return
    for name, field in type_.fields.items():
        named, is_list = _unwrap(field.type)
        here = (*path, (name, is_list))
        definition = (field.extensions or {}).get("strawberry-definition")
        roles = write_roles(definition) if definition is not None else None
        if roles is not None:
            assert roles_note(*roles) in (field.description or ""), (
                f"{mutation}: {name} is guarded but its description does not say who writes it"
            )
            yield Guarded(mutation, here, roles, named.name)
        yield from _walk(mutation, named, here, seen | {type_.name})


def guarded_fields() -> list[Guarded]:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    found: list[Guarded] = []
    for name, field in mutation_type.fields.items():
        for arg_name, arg in field.args.items():
            named, _ = _unwrap(arg.type)
            for guarded in _walk(name, named, (), set()):
                assert arg_name == "input", f"{name}: a guarded field outside `input`"
                found.append(guarded)
    return found


@dataclass
class Fixture:
    org: Org
    student_id: str


# A minimal valid input for each mutation that carries a guarded field. A mutation with a
# guarded field and no entry here fails the test: add one.
MINIMAL: dict[str, Callable[[Fixture], dict[str, Any]]] = {
    "upsertStudent": lambda f: {"externalId": "FR-" + uuid.uuid4().hex[:8], "name": "Fen"},
    "updateStudentSupport": lambda f: {"studentId": f.student_id},
}
# A valid value to write into a guarded field, by its GraphQL type.
SAMPLE: dict[str, Any] = {"Int": 1, "String": "written by someone", "Boolean": True}


def _with(value: dict[str, Any], path: tuple[tuple[str, bool], ...], sample: Any) -> None:
    (name, is_list), *rest = path
    if not rest:
        value[name] = [sample] if is_list else sample
        return
    inner = value[name][0] if is_list else value.setdefault(name, {})
    _with(inner, tuple(rest), sample)


def _document(mutation: str) -> str:
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    input_type, _ = _unwrap(mutation_type.fields[mutation].args["input"].type)
    return (
        f"mutation($input: {input_type.name}!) {{ {mutation}(input: $input) "
        "{ __typename errors { field message code } } }"
    )


async def _written(db: Database, org: Org) -> tuple[int, list[tuple[Any, ...]]]:
    """What a refused mutation must leave as it was: the audit log (every mutation writes a
    row) and every student column."""
    async with db.transaction(org.id) as session:
        audited = await session.scalar(select(func.count()).select_from(AuditEntry))
        columns = [c for c in Student.__table__.columns]
        rows = (await session.execute(select(*columns).order_by(Student.id))).all()
    return int(audited or 0), [tuple(r) for r in rows]


def _refused(body: dict[str, Any], mutation: str, guarded: Guarded) -> bool:
    """Refused as a whole for the role (a permission error) or for the field (FORBIDDEN)."""
    if body.get("data") is None:
        return all("requires role" in e["message"] for e in body["errors"])
    payload = body["data"][mutation]
    return [(e["field"], e["code"]) for e in payload["errors"]] == [
        (guarded.error_path, "FORBIDDEN")
    ]


def test_the_schema_declares_the_support_fields_guarded() -> None:
    found = {(g.mutation, g.error_path): g.roles for g in guarded_fields()}
    teaching = (Role.ADMIN, Role.TEACHER)
    assert found == {
        ("upsertStudent", "supportLevel"): teaching,
        ("upsertStudent", "supportNotes"): teaching,
        ("updateStudentSupport", "supportLevel"): teaching,
        ("updateStudentSupport", "supportNotes"): teaching,
        ("updateStudentSupport", "caseManager"): teaching,
    }


async def test_every_mutation_refuses_guarded_fields_to_other_roles(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    guarded = guarded_fields()
    assert guarded, "no guarded input fields found: the declaration is gone"
    missing = sorted({g.mutation for g in guarded} - MINIMAL.keys())
    assert not missing, f"no minimal test input for {missing}: add them to MINIMAL"
    fixture = Fixture(org, await upsert(gql, org, "FR-SEEN", supportNotes="kept"))

    for g in guarded:
        document = _document(g.mutation)
        sample = SAMPLE[g.graphql_type]
        for role in (r for r in Role if r not in g.roles):
            variables = MINIMAL[g.mutation](fixture)
            _with(variables, g.path, sample)
            before = await _written(db, org)
            body = await gql(document, {"input": variables}, token=org.token(role))
            assert _refused(body, g.mutation, g), (g, role, body)
            assert await _written(db, org) == before, (g, role, "wrote something")
            # null is a write too (it clears).
            _with(variables, g.path, None)
            body = await gql(document, {"input": variables}, token=org.token(role))
            assert _refused(body, g.mutation, g), (g, role, "null", body)
            assert await _written(db, org) == before, (g, role, "null wrote something")

        # The same input is accepted from a role that may write the field: the refusals
        # above were the field's, not a broken minimal input's.
        accepted = []
        for role in g.roles:
            variables = MINIMAL[g.mutation](fixture)
            _with(variables, g.path, sample)
            body = await gql(document, {"input": variables}, token=org.token(role))
            if body.get("data") is None:  # the mutation itself is not for this role
                continue
            assert body["data"][g.mutation]["errors"] == [], (g, role, body)
            accepted.append(role)
        assert accepted, f"{g}: no allowed role could call {g.mutation}"
