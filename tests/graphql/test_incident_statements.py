"""logIncident costs a fixed number of SQL statements: the clientId fingerprint adds none, and
a given occurredAt adds one only when later negatives in its window must be restruck."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.conftest import GraphQLClient, Org, StatementCounter
from tests.graphql.test_contract import LOG, upsert

# Without clientId: the student lock with the org's policy (one statement), the strike
# count (which also counts the later negatives), insert, audit, its event (app.events), the
# risk inputs (one statement: behaviour, IEP, diagnostics, attendance), the student UPDATE
# (risk and points), and the payload's student. A clientId adds two lookups (before and
# under the lock) and the savepoint around the insert (SAVEPOINT, RELEASE); its fingerprint
# is computed in Python and written by the same INSERT. A negative backdated before a later
# one adds the restrike's read of the window (and, for each later strike that changes, its
# UPDATE and audit row: none here).
EXPECTED = {
    "without clientId": 8,
    "with clientId": 12,
    "occurredAt, nothing later": 8,
    "occurredAt before a later negative": 9,
}


async def test_log_incident_statement_count(
    gql: GraphQLClient, org: Org, count_statements: StatementCounter
) -> None:
    async def log(sid: str, client_id: str | None, occurred_at: datetime | None = None) -> int:
        count_statements.statements.clear()
        item = {"studentId": sid, "kind": "NEGATIVE", "category": "late", "clientId": client_id}
        if occurred_at is not None:
            item["occurredAt"] = occurred_at.isoformat()
        body = await gql(LOG, {"input": item}, token=org.token())
        assert body["data"]["logIncident"]["errors"] == []
        return len(count_statements.data_statements)

    async def second_negative(
        external_id: str,
        client_id: str | None,
        first_at: datetime | None = None,
        second_at: datetime | None = None,
    ) -> int:
        # The first risk computation writes a history row; a second negative changes no
        # factor, so it writes none.
        sid = await upsert(gql, org, external_id)
        await log(sid, None, first_at)
        return await log(sid, client_id, second_at)

    now = datetime.now(UTC)
    counts = {
        "without clientId": await second_negative("SC1", None),
        "with clientId": await second_negative("SC2", str(uuid.uuid4())),
        "occurredAt, nothing later": await second_negative(
            "SC3", None, now - timedelta(hours=2), now - timedelta(hours=1)
        ),
        "occurredAt before a later negative": await second_negative(
            "SC4", None, None, now - timedelta(hours=1)
        ),
    }
    print(f"logIncident statements: {counts}")
    assert counts == EXPECTED
