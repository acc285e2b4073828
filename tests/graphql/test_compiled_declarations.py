"""The compiled declarations agree with the schema, the models and the services: a field,
column or filter added on one side and not the other fails here, not in production."""

from __future__ import annotations

import dataclasses

from graphql import GraphQLObjectType, get_named_type
from sqlalchemy.orm import ColumnProperty

from app.db import Base
from app.graphql.compiled.declarations import (
    INCIDENT_FILTERS,
    ROW_TYPES,
    STUDENT_FILTERS,
    Column,
    ResolverOnly,
    ToManyConnection,
    ToOne,
    _readers,
)
from app.graphql.compiled.planner import readable
from app.graphql.schema import schema
from app.incidents.service import IncidentFilter
from app.orgs.models import Role
from app.students.service import StudentFilter


def test_every_field_of_a_compiled_type_is_declared() -> None:
    for row in ROW_TYPES.values():
        gtype = schema._schema.get_type(row.name)
        assert isinstance(gtype, GraphQLObjectType)
        assert set(gtype.fields) == set(row.fields), row.name


def test_columns_exist_and_fit_their_fields() -> None:
    for row in ROW_TYPES.values():
        table = Base.metadata.tables[row.table]
        gtype = schema._schema.get_type(row.name)
        assert isinstance(gtype, GraphQLObjectType)
        for name, declaration in row.fields.items():
            sfield = schema.get_field_for_type(name, row.name)
            assert sfield is not None
            if isinstance(declaration, Column):
                assert all(c in table.c for c in declaration.columns), (row.name, name)
                assert get_named_type(gtype.fields[name].type).name == declaration.graphql_type
                # A resolver on the Strawberry side is Python logic, unless declared trivial.
                assert (sfield.base_resolver is not None) == declaration.mirrors_resolver, name
            elif isinstance(declaration, ToOne | ToManyConnection):
                assert declaration.target in ROW_TYPES
                assert sfield.base_resolver is not None
            else:
                assert isinstance(declaration, ResolverOnly)


def test_the_planner_knows_every_permission_it_meets() -> None:
    """Roles come from the fields' permission_classes; an unknown permission class would make
    the field resolver-only for everyone, silently slow."""
    for row in ROW_TYPES.values():
        for name in row.fields:
            reason = readable(schema.get_field_for_type(name, row.name), Role.ADMIN)
            assert reason is None, (row.name, name, reason)
    for name in ("students", "student", "incidents", "node"):
        assert readable(schema.get_field_for_type(name, "Query"), Role.AIDE) is None


def test_aides_may_not_read_support_fields_on_either_path() -> None:
    for name in ("supportLevel", "supportNotes"):
        assert readable(schema.get_field_for_type(name, "Student"), Role.AIDE) is not None
        assert readable(schema.get_field_for_type(name, "Student"), Role.TEACHER) is None


def test_filters_cover_the_service_filters() -> None:
    for declared, data in ((STUDENT_FILTERS, StudentFilter), (INCIDENT_FILTERS, IncidentFilter)):
        assert {f.attribute for f in declared} == {f.name for f in dataclasses.fields(data)}


def test_both_paths_read_a_field_from_the_same_column() -> None:
    """from_model reads each plain field through the declaration's model attribute; where
    that attribute is a column, it is the column the compiled SQL reads."""
    for row in ROW_TYPES.values():
        model = next(m.class_ for m in Base.registry.mappers if m.local_table.name == row.table)
        for name, declaration in row.fields.items():
            if not isinstance(declaration, Column) or declaration.attribute is None:
                continue
            attribute = getattr(model, declaration.attribute)
            prop = getattr(attribute, "property", None)
            if isinstance(prop, ColumnProperty):
                assert prop.columns[0].name in declaration.columns, (row.name, name)
            else:  # a model property over columns (Incident.voided over voided_at)
                assert isinstance(attribute, property), (row.name, name)


def test_from_model_answers_every_plain_field_from_the_declaration() -> None:
    from app.graphql.incidents.types import INCIDENT, Incident
    from app.graphql.students.types import STUDENT, Student

    for row_type, strawberry_type in ((STUDENT, Student), (INCIDENT, Incident)):
        plain = {
            f.python_name
            for f in strawberry_type.__strawberry_definition__.fields
            if f.base_resolver is None and f.python_name != "model"
        }
        readers = {name for name, _ in _readers(row_type, strawberry_type)}
        assert readers == plain, row_type.name
