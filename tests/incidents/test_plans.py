"""The incident journey's statements are planned once per connection, not at every tap.

Postgres re-plans a prepared statement at every run while its generic plan looks dearer than
its custom ones; a statement that takes its rows as an array (`unnest($1)`, estimated at 100
rows when the array is a parameter) always looks so. The event insert (with its webhook
outbox) spent about 0.8 ms of a 1 ms run planning, the risk statements 0.4 ms: most of what
separated logIncident from its 5 ms target. The write journeys' transactions run on generic
plans (Database.transaction's `generic_plans`); the rest keep Postgres's default."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.incidents import flows
from app.incidents import service as incidents
from app.incidents.models import IncidentKind
from tests.conftest import GraphQLClient, Org, StatementCounter
from tests.factories import make_student
from tests.graphql.test_contract import LOG, upsert
from tests.integrations.test_inbound import message, post, source

# The journey's statements that take their students as an array.
_ARRAY_STATEMENTS = (
    "statement LIKE 'WITH ev AS (INSERT INTO events%' "
    "OR statement LIKE 'SELECT u.id, b.n, b.strike%' "
    "OR statement LIKE 'UPDATE students AS s SET risk_tier%'"
)
_PLANS = text(
    "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)"
    f" FROM pg_prepared_statements WHERE {_ARRAY_STATEMENTS}"
)


async def _plans_made(session: AsyncSession) -> tuple[int, int]:
    """(generic, custom) runs so far of the journey's array statements on this connection."""
    generic, custom = (await session.execute(_PLANS)).one()
    return int(generic), int(custom)


async def _journeys(db: Database, org: Org) -> tuple[int, int]:
    """Six negatives logged in one transaction on generic plans (one connection): the plans
    they made."""
    student = await make_student(db, org)
    data = incidents.IncidentData(student_id=student.id, kind=IncidentKind.NEGATIVE, category="x")
    async with db.transaction(org.id, generic_plans=True) as session:
        generic_before, custom_before = await _plans_made(session)
        for _ in range(6):
            await flows.log_incident(session, actor=org.principal(), data=data)
        generic_after, custom_after = await _plans_made(session)
    return generic_after - generic_before, custom_after - custom_before


async def test_the_journeys_statements_run_on_their_generic_plans(db: Database, org: Org) -> None:
    generic, custom = await _journeys(db, org)
    # Each of the three runs at least once per journey, never re-planned. (On Postgres's
    # default, how many runs re-plan depends on the connection's history of each statement:
    # on the demo school, every one of them did.)
    assert custom == 0
    assert generic >= 3 * 6


async def test_mutations_ask_for_generic_plans_and_reads_do_not(
    gql: GraphQLClient, org: Org, count_statements: StatementCounter
) -> None:
    sid = await upsert(gql, org, "PLANS1")
    count_statements.statements.clear()
    body = await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "late"}},
        token=org.token(),
    )
    assert body["data"]["logIncident"]["errors"] == []
    # The journey's transaction, then the payload's student read in a transaction of its own.
    scopes = [s for s in count_statements.statements if "set_config" in s]
    assert len(scopes) == 2
    assert "force_generic_plan" in scopes[0]
    assert "force_generic_plan" not in scopes[1]

    count_statements.statements.clear()
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": sid}, token=org.token())
    assert body["data"]["node"]["id"] == sid
    scopes = [s for s in count_statements.statements if "set_config" in s]
    assert len(scopes) == 1
    assert "force_generic_plan" not in scopes[0]


async def test_a_webhooks_journey_asks_for_them_too(
    gql: GraphQLClient, db: Database, org: Org, count_statements: StatementCounter
) -> None:
    student = await make_student(db, org)
    key, secret = await source(gql, org)
    count_statements.statements.clear()
    response = await post(gql, key, secret, message(student.external_id))
    assert response.status_code == 200, response.text
    scopes = [s for s in count_statements.statements if "set_config" in s]
    # The lookup of an earlier delivery of the same webhook-id, then the journey.
    assert ["force_generic_plan" in s for s in scopes] == [False, True]
