"""logIncident costs a fixed number of SQL statements: the clientId fingerprint adds none."""

from __future__ import annotations

import uuid

from tests.conftest import GraphQLClient, Org, StatementCounter
from tests.graphql.test_contract import LOG, upsert

# Without clientId: student lock, policy, strike count, insert, audit, three risk reads,
# the student UPDATE (risk and points), and the payload's student. A clientId adds two
# lookups (before and under the lock) and the savepoint around the insert; its fingerprint
# is computed in Python and written by the same INSERT.
EXPECTED = {"without clientId": 10, "with clientId": 14}


async def test_log_incident_statement_count(
    gql: GraphQLClient, org: Org, count_statements: StatementCounter
) -> None:
    async def log(sid: str, client_id: str | None) -> int:
        count_statements.statements.clear()
        item = {"studentId": sid, "kind": "NEGATIVE", "category": "late", "clientId": client_id}
        body = await gql(LOG, {"input": item}, token=org.token())
        assert body["data"]["logIncident"]["errors"] == []
        return len(count_statements.data_statements)

    async def second_negative(external_id: str, client_id: str | None) -> int:
        # The first risk computation writes a history row; a second negative changes no
        # factor, so it writes none.
        sid = await upsert(gql, org, external_id)
        await log(sid, None)
        return await log(sid, client_id)

    counts = {
        "without clientId": await second_negative("SC1", None),
        "with clientId": await second_negative("SC2", str(uuid.uuid4())),
    }
    print(f"logIncident statements: {counts}")
    assert counts == EXPECTED
