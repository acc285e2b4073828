"""The compiled path answers exactly as the resolver path does.

Each operation of the corpus runs three ways: through the resolver path (the app as it is,
`resolver_path_only`), through `execute_compiled` directly (its `data` must equal the
resolver path's for every root field it compiled, and it must compile the fields the case
says), and through an app wired with the `CompiledReads` extension and `encode_response`
(its whole body, errors included, must equal the resolver path's)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import strawberry

from app.core.pagination import PageRequest, encode_cursor
from app.db import Database
from app.graphql.compiled import CompiledResult, execute_compiled, execute_compiled_many
from app.graphql.compiled.extension import resolver_path_only
from app.graphql.relay import to_global_id
from app.incidents import flows
from app.incidents import service as incident_service
from app.incidents.models import Incident, IncidentKind
from app.orgs.models import Role
from app.students.models import Student
from tests.conftest import GraphQLClient, Org, StatementCounter, counting_statements, make_org
from tests.factories import make_student


@dataclass
class Dataset:
    a: Org
    b: Org
    cls: str
    students: dict[str, Student] = field(default_factory=dict)
    incidents: dict[str, list[Incident]] = field(default_factory=dict)  # newest first

    def sid(self, label: str) -> str:
        return to_global_id("Student", self.students[label].id)

    def iid(self, label: str, i: int) -> str:
        return to_global_id("Incident", self.incidents[label][i].id)

    def student_cursor(self, label: str) -> str:
        s = self.students[label]
        return encode_cursor([s.name, s.id])

    def risk_cursor(self, label: str) -> str:
        s = self.students[label]
        return encode_cursor([s.risk_tier, s.name, s.id])

    def incident_cursor(self, label: str, i: int) -> str:
        row = self.incidents[label][i]
        return encode_cursor([row.occurred_at.astimezone(UTC), row.id])

    def org(self, name: str) -> Org:
        return self.a if name == "a" else self.b


async def _incident(
    db: Database, org: Org, student: Student, at: datetime, kind: IncidentKind, **kw: Any
) -> Incident:
    async with db.transaction(org.id) as session:
        logged = await flows.log_incident(
            session,
            actor=org.principal(),
            data=incident_service.IncidentData(
                student_id=student.id,
                kind=kind,
                category=kw.pop("category", "disruptive"),
                occurred_at=at,
                **kw,
            ),
        )
    return logged.incident


async def build_dataset(db: Database) -> Dataset:
    a, b = await make_org(db), await make_org(db)
    cls = "D" + uuid.uuid4().hex[:6]
    ds = Dataset(a, b, cls)
    people = {
        "ava": dict(name="Ava Okafor", campus="North", support_level=2, support_notes="quiet"),
        "jose": dict(name="José Ñúñez", campus=None, year_group=None),
        "zoe": dict(name="Zoë 😀 Smith", campus="South"),
        "obrien": dict(name='O\'Brien "Bob" \\ Back', campus="North"),
        "ben": dict(name="Ben 100%_Smith", campus="South", year_group=8),
        "other": dict(name="Other Class", class_code=cls + "X", campus="South"),
    }
    for label, extra in people.items():
        ds.students[label] = await make_student(db, a, **{"class_code": cls, **extra})
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    kinds = [IncidentKind.NEGATIVE, IncidentKind.POSITIVE, IncidentKind.NEUTRAL]
    plan: dict[str, list[tuple[datetime, IncidentKind, dict[str, Any]]]] = {
        "ava": [(base - timedelta(hours=i), kinds[i % 3], {"category": f"c{i}"}) for i in range(11)]
        + [(base - timedelta(hours=3), IncidentKind.POSITIVE, {"category": "tie"})],
        "jose": [
            (base, IncidentKind.NEGATIVE, {"note": "Llegó tarde — “otra vez”"}),
            (base - timedelta(minutes=5, microseconds=250), IncidentKind.NEUTRAL, {}),
            (
                base - timedelta(days=1),
                IncidentKind.NEGATIVE,
                {"antecedent": "a", "behaviour": "b"},
            ),
        ],
        "zoe": [
            (base - timedelta(microseconds=1), IncidentKind.POSITIVE, {"client_id": uuid.uuid4()})
        ],
        "ben": [
            (base - timedelta(hours=5), IncidentKind.POSITIVE, {}),
            (base, IncidentKind.POSITIVE, {}),
        ],
        "other": [(base, IncidentKind.NEGATIVE, {"lesson_session_id": "L1"})],
    }
    for label, items in plan.items():
        for at, kind, kw in items:
            await _incident(db, a, ds.students[label], at, kind, **kw)
    voided = (await _listing(db, a, ds.students["jose"]))[2]
    async with db.transaction(a.id) as session:
        await flows.void_incident(
            session, actor=a.principal(), incident_id=voided.id, reason="typo"
        )
    for label in ds.students:
        ds.incidents[label] = await _listing(db, a, ds.students[label])
        async with db.transaction(a.id) as session:  # the risk tier the incidents left
            ds.students[label] = await session.get(Student, ds.students[label].id)
    for i in range(2):
        student = await make_student(db, b, class_code=cls, name=f"B student {i}")
        await _incident(db, b, student, base, IncidentKind.NEGATIVE)
    return ds


async def _listing(db: Database, org: Org, student: Student) -> list[Incident]:
    async with db.transaction(org.id) as session:
        page = await incident_service.list_page(
            session,
            org_id=org.id,
            flt=incident_service.IncidentFilter(student_id=student.id),
            page=PageRequest(100),
        )
    return page.items


@pytest.fixture(scope="module")
async def dataset(db: Database) -> Dataset:
    return await build_dataset(db)


def view_schema(app: Any) -> strawberry.Schema:
    view = next(r.endpoint for r in app.routes if getattr(r, "path", None) == "/graphql")
    schema: strawberry.Schema = view.schema
    return schema


@pytest.fixture
def wired(app: Any) -> Any:
    """The app as shipped: build_schema lists CompiledReads and the view encodes with
    encode_response; nothing is patched, so what these tests check is what runs."""
    assert app.state.services.settings.compiled_reads
    return app


@pytest.fixture
def wired_gql(gql: GraphQLClient) -> GraphQLClient:
    return gql


# --- the corpus ------------------------------------------------------------------------------

CLASS_VIEW = """query($cls: String!) { students(first: 30, filter: {classCode: $cls}) {
  edges { node { id name incidents(first: 10) { edges { node { id occurredAt kind category } } } } } } }"""

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
STUDENT_FIELDS = "id externalId name classCode yearGroup campus housePoints riskTier createdAt"
INCIDENT_FIELDS = """id kind category points note classCode lessonSessionId occurredAt antecedent
  behaviour consequence source clientId loggedBy strikeLevel consequenceText adminNotified
  hodConsulted parentMeetingScheduled createdAt voided voidedAt voidedBy voidReason"""


@dataclass
class Case:
    name: str
    query: str
    variables: Callable[[Dataset], dict[str, Any]] = lambda ds: {"cls": ds.cls}
    role: Role = Role.ADMIN
    org: str = "a"
    compiled: tuple[str, ...] | None = None  # the root keys that compile; None: all of them
    operation_name: str | None = None


def _students(args: str, selection: str) -> str:
    return f"query($cls: String!) {{ students({args}) {{ {selection} }} }}"


CASES = [
    Case("class view", CLASS_VIEW),
    Case("class view as teacher", CLASS_VIEW, role=Role.TEACHER),
    Case("class view as aide", CLASS_VIEW, role=Role.AIDE),
    Case("class view as integration", CLASS_VIEW, role=Role.INTEGRATION),
    Case("class view of the other org", CLASS_VIEW, org="b"),
    Case(
        "class view with cursors and page info",
        _students(
            "first: 3, filter: {classCode: $cls}",
            f"edges {{ cursor node {{ name incidents(first: 2) {{ edges {{ cursor node {{ id }} }}"
            f" {PAGE_INFO} }} }} }} {PAGE_INFO}",
        ),
    ),
    Case(
        "students with defaults",
        f"{{ students {{ edges {{ cursor node {{ {STUDENT_FIELDS} }} }} {PAGE_INFO} }} }}",
        lambda ds: {},
    ),
    Case(
        "first page",
        _students(
            "first: 2, filter: {classCode: $cls}", f"edges {{ node {{ name }} }} {PAGE_INFO}"
        ),
    ),
    Case(
        "next page",
        "query($cls: String!, $after: String) { students(first: 2, after: $after, "
        f"filter: {{classCode: $cls}}) {{ edges {{ cursor node {{ name }} }} {PAGE_INFO} }} }}",
        lambda ds: {"cls": ds.cls, "after": ds.student_cursor("ben")},
    ),
    Case(
        "first: 0",
        _students("first: 0, filter: {classCode: $cls}", f"edges {{ cursor }} {PAGE_INFO}"),
    ),
    Case(
        "nodes",
        _students("filter: {classCode: $cls}", "nodes { id name } pageInfo { hasNextPage }"),
    ),
    Case(
        "filter yearGroup and campus",
        '{ students(filter: {yearGroup: 7, campus: "North"}) { nodes { name yearGroup campus } } }',
        lambda ds: {},
    ),
    Case(
        "filter nameContains: wildcards are literal",
        '{ students(filter: {nameContains: "100%_"}) { nodes { name } } }',
        lambda ds: {},
    ),
    Case(
        "filter nameContains: unicode, any case",
        '{ students(filter: {nameContains: "ÑÚ"}) { nodes { name } } }',
        lambda ds: {},
    ),
    Case(
        "filter minRiskTier and nulls",
        "query($f: StudentFilter) { students(filter: $f) { nodes { name riskTier } } }",
        lambda ds: {
            "f": {"minRiskTier": 1, "campus": None, "classCode": ds.cls, "nameContains": ""}
        },
    ),
    Case(
        "empty result",
        '{ students(filter: {classCode: "no-such"}) { edges { node { id } } pageInfo { hasNextPage startCursor endCursor } } }',
        lambda ds: {},
    ),
    Case(
        "aliases",
        """query($cls: String!, $after: String) {
          head: students(first: 1, filter: {classCode: $cls}) { e: edges { c: cursor n: node { i: id nm: name } } p: pageInfo { more: hasNextPage } }
          rest: students(first: 2, after: $after, filter: {classCode: $cls}) { edges { node { name } } } }""",
        lambda ds: {"cls": ds.cls, "after": ds.student_cursor("ava")},
    ),
    Case(
        "fragments and inline fragments",
        """query($cls: String!) { students(filter: {classCode: $cls}) { ...Page } }
        fragment Page on StudentConnection { edges { node { ...Who ... on Node { id } } } }
        fragment Who on Student { name ... on Student { campus } incidents(first: 2) { nodes { ...Inc } } }
        fragment Inc on Incident { kind ... @include(if: true) { category } }""",
    ),
    Case(
        "__typename everywhere",
        """query($cls: String!) { __typename students(first: 2, filter: {classCode: $cls}) { __typename
          edges { __typename node { __typename name incidents(first: 1) { __typename nodes { __typename id } } } }
          pageInfo { __typename hasNextPage } } }""",
    ),
    Case(
        "@include and @skip: on",
        """query($cls: String!, $inc: Boolean!, $skip: Boolean!) { students(filter: {classCode: $cls}) {
          edges { node { name @skip(if: $skip) id incidents(first: 1) @include(if: $inc) { nodes { id } } } } } }""",
        lambda ds: {"cls": ds.cls, "inc": True, "skip": False},
    ),
    Case(
        "@include and @skip: off",
        """query($cls: String!, $inc: Boolean!, $skip: Boolean!) { students(filter: {classCode: $cls}) {
          edges { node { name @skip(if: $skip) id incidents(first: 1) @include(if: $inc) { nodes { id } } } } } }""",
        lambda ds: {"cls": ds.cls, "inc": False, "skip": True},
    ),
    Case(
        "student by id",
        f"""query($id: ID!) {{ student(id: $id) {{ {STUDENT_FIELDS} supportLevel supportNotes
          incidents(first: 2) {{ edges {{ cursor node {{ category }} }} {PAGE_INFO} }} }} }}""",
        lambda ds: {"id": ds.sid("ava")},
    ),
    Case(
        "student: nulls for other ids",
        """query($inc: ID!, $unknown: ID!) { a: student(id: $inc) { id } b: student(id: "garbage") { id }
          c: student(id: $unknown) { id } }""",
        lambda ds: {"inc": ds.iid("ava", 0), "unknown": to_global_id("Student", uuid.uuid4())},
    ),
    Case(
        "node: a student",
        "query($id: ID!) { node(id: $id) { __typename id ... on Student { name classCode } ... on Incident { kind } } }",
        lambda ds: {"id": ds.sid("jose")},
    ),
    Case(
        "node: an incident",
        "query($id: ID!) { node(id: $id) { id ... on Incident { kind category note student { name } } } }",
        lambda ds: {"id": ds.iid("jose", 0)},
    ),
    Case(
        "node: nulls",
        """query($unknown: ID!, $other: ID!) { a: node(id: "garbage") { id } b: node(id: $unknown) { id }
          c: node(id: $other) { id } }""",
        lambda ds: {
            "unknown": to_global_id("Incident", uuid.uuid4()),
            "other": to_global_id("Nope", uuid.uuid4()),
        },
    ),
    Case(
        "incidents: every field",
        f"{{ incidents(first: 30) {{ edges {{ cursor node {{ {INCIDENT_FIELDS} }} }} {PAGE_INFO} }} }}",
        lambda ds: {},
    ),
    Case(
        "incidents: by student",
        "query($f: IncidentFilter) { incidents(filter: $f) { nodes { category occurredAt } pageInfo { hasNextPage } } }",
        lambda ds: {"f": {"studentId": ds.sid("ava")}},
    ),
    Case(
        "incidents: kind and not voided",
        "{ incidents(filter: {kind: NEGATIVE, voided: false}) { nodes { id kind voided } } }",
        lambda ds: {},
    ),
    Case(
        "incidents: voided only",
        "{ incidents(filter: {voided: true}) { nodes { id voidedAt voidReason } } }",
        lambda ds: {},
    ),
    Case(
        "incidents: a time window and a class",
        "query($f: IncidentFilter) { incidents(filter: $f) { nodes { id occurredAt classCode } } }",
        lambda ds: {
            "f": {
                "from": (ds.incidents["ava"][6].occurred_at).isoformat(),
                "to": (ds.incidents["ava"][1].occurred_at).isoformat(),
                "classCode": ds.cls,
            }
        },
    ),
    Case(
        "incidents: next page",
        f"query($after: String) {{ incidents(first: 3, after: $after) {{ edges {{ cursor node {{ id }} }} {PAGE_INFO} }} }}",
        lambda ds: {"after": ds.incident_cursor("ava", 2)},
    ),
    Case(
        "nested incidents: next page",
        f"""query($id: ID!, $after: String) {{ student(id: $id) {{ incidents(first: 3, after: $after) {{
          edges {{ cursor node {{ id category }} }} {PAGE_INFO} }} }} }}""",
        lambda ds: {"id": ds.sid("ava"), "after": ds.incident_cursor("ava", 1)},
    ),
    Case(
        "deep: incident -> student -> incidents -> student",
        """{ incidents(first: 4) { edges { node { category student { name incidents(first: 2) {
          edges { node { category student { externalId } } } } } } } } }""",
        lambda ds: {},
    ),
    Case(
        "one key selected twice",
        """query($cls: String!) { students(filter: {classCode: $cls}) { edges { node { id } } }
          students(filter: {classCode: $cls}) { edges { node { name } } pageInfo { endCursor } } }""",
    ),
    Case(
        "a named operation among several",
        """query Other { me { role } }
        query Class($cls: String!) { students(filter: {classCode: $cls}) { nodes { name } } }""",
        operation_name="Class",
    ),
    Case(
        "at-risk students: mixed sort directions, two pages",
        f"""query($after: String) {{ all: atRiskStudents(minTier: 1, first: 3) {{
          edges {{ cursor node {{ name riskTier }} }} {PAGE_INFO} }}
          rest: atRiskStudents(minTier: 1, first: 3, after: $after) {{ nodes {{ name riskTier }} }}
          high: atRiskStudents {{ nodes {{ name }} }} }}""",
        lambda ds: {"after": ds.risk_cursor("jose")},
    ),
    # Fallbacks: the compiled path leaves these root fields to the resolver path.
    Case(
        "aides may not list at-risk students",
        "{ atRiskStudents { nodes { name } } }",
        lambda ds: {},
        role=Role.AIDE,
        compiled=(),
    ),
    # Backward pages (last/before), and both bounds at once.
    Case(
        "the last page of a class",
        _students(
            "last: 2, filter: {classCode: $cls}", f"edges {{ cursor node {{ name }} }} {PAGE_INFO}"
        ),
    ),
    Case(
        "the page before a student",
        "query($cls: String!, $before: String) { students(last: 2, before: $before, "
        f"filter: {{classCode: $cls}}) {{ edges {{ cursor node {{ name }} }} {PAGE_INFO} }} }}",
        lambda ds: {"cls": ds.cls, "before": ds.student_cursor("zoe")},
    ),
    Case(
        "first with before: the start, bounded",
        "query($cls: String!, $before: String) { students(first: 1, before: $before, "
        f"filter: {{classCode: $cls}}) {{ nodes {{ name }} {PAGE_INFO} }} }}",
        lambda ds: {"cls": ds.cls, "before": ds.student_cursor("zoe")},
    ),
    Case(
        "between two cursors, backward",
        "query($cls: String!, $after: String, $before: String) { students(last: 5, "
        "after: $after, before: $before, filter: {classCode: $cls}) "
        f"{{ nodes {{ name }} {PAGE_INFO} }} }}",
        lambda ds: {
            "cls": ds.cls,
            "after": ds.student_cursor("ava"),
            "before": ds.student_cursor("zoe"),
        },
    ),
    Case(
        "last zero",
        _students("last: 0, filter: {classCode: $cls}", f"nodes {{ name }} {PAGE_INFO}"),
    ),
    Case(
        "a student's oldest incidents, nested backward",
        f"""query($id: ID!) {{ student(id: $id) {{ incidents(last: 2) {{
          edges {{ cursor node {{ id occurredAt }} }} {PAGE_INFO} }} }} }}""",
        lambda ds: {"id": ds.sid("ava")},
    ),
    Case(
        "nested backward before a cursor, every class member",
        f"""query($cls: String!, $before: String) {{ students(filter: {{classCode: $cls}}) {{
          nodes {{ name incidents(last: 1, before: $before) {{ nodes {{ id }} {PAGE_INFO} }} }} }} }}""",
        lambda ds: {"cls": ds.cls, "before": ds.incident_cursor("ava", 1)},
    ),
    Case(
        "the school's incidents, backward",
        f"query {{ incidents(last: 3) {{ edges {{ cursor node {{ id }} }} {PAGE_INFO} }} }}",
        lambda ds: {},
    ),
    Case(
        "at-risk students, backward",
        f"query {{ atRiskStudents(minTier: 1, last: 2) {{ nodes {{ name riskTier }} {PAGE_INFO} }} }}",
        lambda ds: {},
    ),
    Case(
        "first and last together",
        "{ students(first: 2, last: 2) { nodes { id } } }",
        lambda ds: {},
        compiled=(),
    ),
    Case(
        "a bad before cursor",
        '{ students(last: 2, before: "nope") { nodes { id } } }',
        lambda ds: {},
        compiled=(),
    ),
    Case(
        "last over the limit",
        "{ students(last: 1000) { nodes { id } } }",
        lambda ds: {},
        compiled=(),
    ),
    Case(
        "aide may not read supportLevel",
        _students("filter: {classCode: $cls}", "edges { node { name supportLevel } }"),
        role=Role.AIDE,
        compiled=(),
    ),
    Case(
        "resolver-only field",
        _students("first: 2, filter: {classCode: $cls}", "edges { node { name strikeLevel } }"),
        compiled=(),
    ),
    Case(
        "mixed: me and students",
        "query($cls: String!) { me { role } students(first: 2, filter: {classCode: $cls}) { nodes { name } } }",
        compiled=("students",),
    ),
    Case(
        "a bad cursor", '{ students(after: "nope") { nodes { id } } }', lambda ds: {}, compiled=()
    ),
    Case(
        "a forged cursor: parts of the wrong types",
        "query($after: String) { students(after: $after) { nodes { id } } }",
        lambda ds: {"after": encode_cursor([5, "not-a-uuid"])},
        compiled=(),
    ),
    Case(
        "a page too large", "{ students(first: 1000) { nodes { id } } }", lambda ds: {}, compiled=()
    ),
    Case(
        "a bad nested cursor, next to a good root",
        """query($id: ID!) { ok: student(id: $id) { name } bad: student(id: $id) {
          incidents(after: "zz") { nodes { id } } } }""",
        lambda ds: {"id": ds.sid("ava")},
        compiled=("ok",),
    ),
]


async def resolver_answer(gql: GraphQLClient, ds: Dataset, case: Case) -> dict[str, Any]:
    org = ds.org(case.org)
    with resolver_path_only():
        return await _post(gql, ds, case, org.token(case.role))


async def _post(gql: GraphQLClient, ds: Dataset, case: Case, token: str) -> dict[str, Any]:
    response = await _post_raw(gql, ds, case, token)
    body: dict[str, Any] = response.json()
    return body


async def _post_raw(gql: GraphQLClient, ds: Dataset, case: Case, token: str) -> httpx.Response:
    response = await gql.http.post(
        "/graphql",
        json={
            "query": case.query,
            "variables": case.variables(ds),
            "operationName": case.operation_name,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response


async def compiled_answer(app: Any, ds: Dataset, case: Case) -> CompiledResult | None:
    services = app.state.services
    return await execute_compiled(
        services.db,
        ds.org(case.org).principal(case.role),
        view_schema(app),
        case.query,
        case.operation_name,
        case.variables(ds),
        services.settings,
    )


def check_compiled(case: Case, expected: dict[str, Any], result: CompiledResult | None) -> None:
    data = expected.get("data") or {}
    keys = tuple(data) if case.compiled is None else case.compiled
    got = {} if result is None else json.loads(result.body)["data"]
    assert tuple(got) == keys, (case.name, result and result.fallback)
    assert got == {k: data[k] for k in keys}, case.name
    for error in expected.get("errors", []):
        assert error["path"][0] not in got, (case.name, error)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_both_paths_answer_alike(
    case: Case, dataset: Dataset, app: Any, gql: GraphQLClient, wired_gql: GraphQLClient
) -> None:
    expected = await resolver_answer(gql, dataset, case)
    if case.compiled is None:
        assert "errors" not in expected, expected
    check_compiled(case, expected, await compiled_answer(app, dataset, case))
    token = dataset.org(case.org).token(case.role)
    first = await _post_raw(wired_gql, dataset, case, token)
    assert first.json() == expected
    # Once Strawberry has admitted the document, a fully compiled operation takes the fast
    # lane: the same bytes and headers as Strawberry's answer.
    again = await _post_raw(wired_gql, dataset, case, token)
    assert again.content == first.content, case.name
    assert _headers(again) == _headers(first)


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("date", "x-request-id")}


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
async def test_paging_through_a_class_follows_the_compiled_cursors(
    dataset: Dataset, app: Any, gql: GraphQLClient, backward: bool
) -> None:
    size, bound = ("last", "before") if backward else ("first", "after")
    query = (
        f"query($cls: String!, $c: String) {{ students({size}: 2, {bound}: $c, filter: "
        f"{{classCode: $cls}}) {{ edges {{ cursor node {{ name }} }} {PAGE_INFO} }} }}"
    )
    cursor, names = None, []
    while True:
        case = Case("page", query, lambda ds, c=cursor: {"cls": ds.cls, "c": c})  # type: ignore[misc]
        expected = await resolver_answer(gql, dataset, case)
        result = await compiled_answer(app, dataset, case)
        check_compiled(case, expected, result)
        assert result is not None
        page = json.loads(result.body)["data"]["students"]
        got = [e["node"]["name"] for e in page["edges"]]
        names = got + names if backward else names + got
        info = page["pageInfo"]
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            break
        cursor = info["startCursor" if backward else "endCursor"]
    forward = await resolver_answer(
        gql,
        dataset,
        Case("all", _students("first: 100, filter: {classCode: $cls}", "nodes { name }")),
    )
    # Every student of the class once, in the list's order, whichever way it was walked.
    assert names == [n["name"] for n in forward["data"]["students"]["nodes"]]
    assert sorted(names) == sorted(s.name for k, s in dataset.students.items() if k != "other")


async def test_class_view_is_one_statement(
    dataset: Dataset, app: Any, count_statements: StatementCounter
) -> None:
    case = CASES[0]
    await compiled_answer(app, dataset, case)  # plan and prepare once
    count_statements.statements.clear()
    result = await compiled_answer(app, dataset, case)
    assert result is not None and not result.fallback
    assert len(count_statements.statements) == 2, count_statements.statements
    assert len(count_statements.data_statements) == 1
    assert "set_config" in count_statements.statements[0]


async def test_wired_class_view_runs_no_resolver(
    dataset: Dataset, wired: Any, wired_gql: GraphQLClient
) -> None:
    with counting_statements(wired.state.services.db) as counter:
        case = CASES[0]
        token = dataset.a.token()
        await _post(wired_gql, dataset, case, token)
        counter.statements.clear()
        body = await _post(wired_gql, dataset, case, token)
    assert body["data"]["students"]["edges"]
    # One transaction: the scope and the statement (the org lookup is cached).
    assert len(counter.data_statements) == 1, counter.statements


async def test_many_variable_sets_in_one_statement(dataset: Dataset, app: Any) -> None:
    """The live fan-out's shape: one plan, one statement, a row per subscriber."""
    services = app.state.services
    query = """query($id: ID!, $n: Int) { student(id: $id) { name incidents(first: $n) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }"""
    labels = ["ava", "jose", "zoe", "obrien"]
    variable_sets = [{"id": dataset.sid(label), "n": i + 1} for i, label in enumerate(labels)]
    principal = dataset.a.principal()
    schema = view_schema(app)
    many = await execute_compiled_many(
        services.db, principal, schema, query, None, variable_sets, services.settings
    )
    for variables, result in zip(variable_sets, many, strict=True):
        one = await execute_compiled(
            services.db, principal, schema, query, None, variables, services.settings
        )
        assert result is not None and one is not None
        assert result.body == one.body
