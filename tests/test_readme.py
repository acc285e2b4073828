"""README's GraphQL examples run as written against the demo school.

Every ```graphql block of the README's *Examples* section, with the ```json block under it as
its variables, is sent to the API over HTTP for a freshly seeded demo org. A value in angle
brackets is what the reader copies from an earlier answer: an id from ClassList or
LogIncident, a new UUID.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from app.auth.tokens import issue
from app.db import Database
from app.orgs.models import Role
from app.seed import seed_demo
from tests.conftest import JWT_SECRET, GraphQLClient

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```graphql\n(.*?)```\n(?:```json\n(.*?)```\n)?", re.S)


def examples() -> list[tuple[str, str, dict[str, Any]]]:
    text = README.read_text()
    section = text.split("### Examples", 1)[1].split("\n### ", 1)[0]
    found = []
    for document, variables in BLOCK.findall(section):
        name = re.search(r"(?:query|mutation)\s+(\w+)", document)
        assert name, f"every README example is a named operation:\n{document}"
        found.append((name.group(1), document, json.loads(variables) if variables else {}))
    return found


def fill(value: Any, answers: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: fill(v, answers) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        if "student id" in value:
            return answers["ClassList"]["students"]["edges"][0]["node"]["id"]
        if "incident id" in value:
            return answers["LogIncident"]["logIncident"]["incident"]["id"]
        if "UUID" in value:
            return str(uuid.uuid4())
        raise AssertionError(f"no rule to fill {value!r}")
    return value


def test_the_examples_section_has_examples() -> None:
    names = [name for name, _, _ in examples()]
    assert names[:2] == ["ClassList", "LogIncident"], names
    assert len(names) >= 6


async def test_readme_examples_run_against_the_demo_school(
    gql: GraphQLClient, db: Database
) -> None:
    slug = "demo-" + uuid.uuid4().hex[:8]
    assert await seed_demo(db, slug=slug)
    token = issue(JWT_SECRET, sub="readme-admin", org=slug, role=Role.ADMIN)
    answers: dict[str, Any] = {}
    for name, document, variables in examples():
        body = await gql(document, fill(variables, answers), token=token)
        assert "errors" not in body, (name, body)
        for field, payload in body["data"].items():
            if isinstance(payload, dict) and "errors" in payload:
                assert payload["errors"] == [], (name, field, payload)
        answers[name] = body["data"]
    assert answers["ClassList"]["students"]["edges"], "the name filter finds nobody"
    assert answers["LogIncident"]["logIncident"]["created"] is True


def test_the_limits_table_lists_every_contract() -> None:
    """README's table of named input limits says what app.core.contracts declares."""
    from app.core import contracts

    text = README.read_text()
    table = text.split("### Input limits", 1)[1].split("\n#", 1)[0]
    for value in vars(contracts).values():
        if isinstance(value, contracts.Contract):
            limits = value.describe().split(": ", 1)[1].rstrip(".")
            assert f"| `{value.name}` | {limits} |" in table, value.name
