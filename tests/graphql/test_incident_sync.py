"""Offline sync over HTTP: a negative logged with an earlier occurredAt restrikes the later
ones, and logIncident and every logIncidents result report those strike changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.core import contracts as C
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import upsert

CHANGES = "strikeChanges { incident { id strikeLevel consequenceText } previousStrike strike }"
LOG = f"""mutation($input: LogIncidentInput!) {{
  logIncident(input: $input) {{ incident {{ id strikeLevel }} {CHANGES} errors {{ field code }} }}
}}"""
LOG_MANY = f"""mutation($input: LogIncidentsInput!) {{
  logIncidents(input: $input) {{
    results {{ index created incident {{ id strikeLevel }} {CHANGES} errors {{ field code }} }}
    errors {{ field message code }} }} }}"""


def _negative(sid: str, at: datetime) -> dict[str, Any]:
    return {"studentId": sid, "kind": "NEGATIVE", "category": "late", "occurredAt": at.isoformat()}


async def test_sync_reports_the_restruck_strikes(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "SYNC1")
    token = org.token(Role.TEACHER)
    ten = datetime.now(UTC) - timedelta(hours=3)
    body = await gql(LOG, {"input": _negative(sid, ten)}, token=token)
    first = body["data"]["logIncident"]
    assert first["errors"] == [] and first["strikeChanges"] == []
    assert first["incident"]["strikeLevel"] == 1
    ten_id = first["incident"]["id"]

    items = [_negative(sid, ten - timedelta(minutes=m)) for m in (60, 30)]
    body = await gql(LOG_MANY, {"input": {"items": items}}, token=token)
    payload = body["data"]["logIncidents"]
    assert payload["errors"] == []
    nine, half_past = payload["results"]
    assert nine["strikeChanges"] == []
    assert half_past["incident"]["strikeLevel"] == 1
    assert half_past["strikeChanges"] == [
        {
            "incident": {
                "id": ten_id,
                "strikeLevel": 2,
                "consequenceText": "Second warning - admin notified",
            },
            "previousStrike": 1,
            "strike": 2,
        }
    ]

    body = await gql(LOG, {"input": _negative(sid, ten - timedelta(minutes=90))}, token=token)
    earliest = body["data"]["logIncident"]
    assert earliest["incident"]["strikeLevel"] == 1
    # 09:00 stays 1 (one before it), 09:30 becomes 2 (two), 10:00 stays 2 (three).
    assert [
        (c["incident"]["id"], c["previousStrike"], c["strike"]) for c in earliest["strikeChanges"]
    ] == [(half_past["incident"]["id"], 1, 2)]

    # A positive, even before all of them, counts in no negative's window: nothing to restrike.
    early = ten - timedelta(hours=2)
    body = await gql(LOG, {"input": {**_negative(sid, early), "kind": "POSITIVE"}}, token=token)
    assert body["data"]["logIncident"]["strikeChanges"] == []


async def test_the_batch_limit_is_the_contract(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "SYNC2")
    assert C.IncidentBatch.max_items is not None
    items = [{"studentId": sid, "kind": "POSITIVE", "category": "kind"}] * (
        C.IncidentBatch.max_items + 1
    )
    body = await gql(LOG_MANY, {"input": {"items": items}}, token=org.token())
    assert body["data"]["logIncidents"] == {
        "results": [],
        "errors": [
            {
                "field": "items",
                "message": f"items takes at most {C.IncidentBatch.max_items} items",
                "code": "OUT_OF_RANGE",
            }
        ],
    }
