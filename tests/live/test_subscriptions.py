"""Live subscriptions over real sockets (uvicorn on loopback, both WebSocket protocols):
who gets an event and who does not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import Org, make_org
from tests.factories import log, make_student
from tests.live.wsclient import PROTOCOLS, Subscription

INCIDENTS = """subscription($scope: ScopeInput, $since: ID) {
  incidentLogged(scope: $scope, since: $since) {
    id incident { id kind student { id name classCode } } } }"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_incident_reaches_its_scope_and_no_other(
    ws_url: str, app_db: Database, org: Org, protocol: str
) -> None:
    ann = await make_student(app_db, org, class_code="L1", name="Ann")
    ben = await make_student(app_db, org, class_code="L2", name="Ben")
    other = await make_org(app_db)
    token = org.token(Role.TEACHER)
    school = await Subscription.open(ws_url, token, INCIDENTS, protocol=protocol)
    l1 = await Subscription.open(
        ws_url, token, INCIDENTS, {"scope": {"classCode": "L1"}}, protocol=protocol
    )
    l2 = await Subscription.open(
        ws_url, token, INCIDENTS, {"scope": {"classCode": "L2"}}, protocol=protocol
    )
    elsewhere = await Subscription.open(
        ws_url, other.token(Role.ADMIN), INCIDENTS, protocol=protocol
    )
    try:
        incident = await log(app_db, org, ann.id)
        for sub in (school, l1):
            got = (await sub.data())["incidentLogged"]
            assert got["incident"]["id"] == to_global_id("Incident", incident.id)
            assert got["incident"]["student"]["name"] == "Ann"
            assert got["id"]
        await l2.quiet()
        await elsewhere.quiet(0.1)
        await log(app_db, org, ben.id)
        assert (await l2.data())["incidentLogged"]["incident"]["student"]["name"] == "Ben"
        assert (await school.data())["incidentLogged"]["incident"]["student"]["name"] == "Ben"
        await l1.quiet(0.2)
        await elsewhere.quiet(0.1)
    finally:
        for sub in (school, l1, l2, elsewhere):
            await sub.close()


RISK = """subscription { riskChanged { id tier student { name } } }"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_role_that_may_not_see_risk_is_refused(
    ws_url: str, org: Org, protocol: str
) -> None:
    sub = await Subscription.open(ws_url, org.token(Role.AIDE), RISK, protocol=protocol)
    try:
        payload = await sub.next()
        assert payload.get("errors"), payload
        assert "requires role" in payload["errors"][0]["message"]
    finally:
        await sub.close()


EVENTS = """subscription($topics: [String!]) { events(topics: $topics) { id topic payload } }"""


async def test_the_event_stream_leaves_out_what_a_role_may_not_see(
    ws_url: str, app_db: Database, org: Org, gql: Any
) -> None:
    student = await make_student(app_db, org)
    aide = await Subscription.open(ws_url, org.token(Role.AIDE), EVENTS)
    teacher = await Subscription.open(ws_url, org.token(Role.TEACHER), EVENTS)
    try:
        # Enough negatives to move the tier: incident.logged for both, risk.changed for one.
        for _ in range(4):
            await log(app_db, org, student.id)
        seen_teacher = [(await teacher.data())["events"]["topic"] for _ in range(5)]
        assert "risk.changed" in seen_teacher, seen_teacher
        seen_aide = [(await aide.data())["events"]["topic"] for _ in range(4)]
        assert set(seen_aide) == {"incident.logged"}
        await aide.quiet(0.3)
    finally:
        await aide.close()
        await teacher.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_bad_token_in_connection_init_closes_with_the_protocols_code(
    ws_url: str, protocol: str
) -> None:
    import json

    import websockets

    async with websockets.connect(ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
        )
        messages = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                messages.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    assert closed.value.rcvd is not None
    if protocol == "graphql-transport-ws":
        assert closed.value.rcvd.code == 4403  # Forbidden
    else:  # the legacy protocol says why in connection_error, then closes (1011)
        assert [m["type"] for m in messages] == ["connection_error"]
        assert closed.value.rcvd.code == 1011
