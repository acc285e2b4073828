"""`schoolgraph explain`: the compiled statement of a query and Postgres' plan of it, run as
the caller (RLS on)."""

from __future__ import annotations

from typing import Any

from app.graphql.compiled.explain import explain_compiled
from app.orgs.models import Role
from tests.conftest import Org
from tests.factories import make_student
from tests.graphql.test_compiled_differential import view_schema

QUERY = """query($cls: String!) { students(first: 5, filter: {classCode: $cls}) {
  nodes { name incidents(first: 3) { nodes { kind } } } } me { sub } }"""


async def test_explain_names_both_paths_and_plans_the_statement(
    app: Any, org: Org, db: Any
) -> None:
    await make_student(db, org, name="Ex", class_code="EX1")
    services = app.state.services
    schema = view_schema(app)
    explanation = await explain_compiled(
        services.db,
        org.principal(Role.TEACHER),
        schema,
        QUERY,
        None,
        {"cls": "EX1"},
        services.settings,
        analyze=True,
    )
    assert explanation.compiled == ("students",)
    assert set(explanation.fallback) == {"me"}
    assert explanation.sql is not None and "json_build_object" in explanation.sql
    assert explanation.parameters[0] == org.id and "EX1" in explanation.parameters
    plan = "\n".join(explanation.plan)
    assert "students" in plan and "actual time" in plan  # ANALYZE ran it
    # As the caller: the row-level-security policy is part of the plan.
    assert "current_setting('app.org_id'" in plan
    text = explanation.text()
    assert "compiled: students" in text and "resolved: me" in text and "-- plan" in text


async def test_explain_says_why_nothing_compiles(app: Any, org: Org) -> None:
    services = app.state.services
    schema = view_schema(app)
    explanation = await explain_compiled(
        services.db, org.principal(), schema, "{ me { sub } }", None, None, services.settings
    )
    assert explanation.sql is None and explanation.problem == "no root field compiles"
    assert set(explanation.fallback) == {"me"}  # and why: Query.me has no compiled form
    bad = await explain_compiled(
        services.db, org.principal(), schema, "{ nope }", None, None, services.settings
    )
    assert bad.problem == "the document does not parse or validate"
