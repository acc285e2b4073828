"""Two API processes, as two replicas behind a load balancer, sharing Postgres and Valkey: a
subscriber on one sees, at once, what a mutation on the other committed. The feeds' timer is
set far beyond the test's waits, so only the broadcast between the processes can carry it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import JWT_SECRET, Org, Servers
from tests.factories import make_student
from tests.live.wsclient import LEGACY_WS, TRANSPORT_WS, Subscription

POLL_SECONDS = 120  # LIVE_POLL_SECONDS of both replicas: the timer never fires in this test
WAIT = 10.0

LOG = """mutation($s: ID!, $kind: IncidentKind!) {
  logIncident(input: {studentId: $s, kind: $kind, category: "replica"}) {
    incident { id } errors { code message } } }"""
INCIDENTS = """subscription($scope: ScopeInput) {
  incidentLogged(scope: $scope) { id incident { id student { id } } } }"""
DASHBOARD = """subscription($scope: ScopeInput) {
  dashboard(scope: $scope) { eventId incidentsToday { positive negative neutral } } }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def replica(servers: Servers) -> AsyncIterator[str]:
    """`schoolgraph serve` in a process of its own; its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "JWT_SECRET": JWT_SECRET,
        "LIVE_POLL_SECONDS": str(POLL_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("BROADCAST_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        break
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the replica did not become ready")
        assert process.returncode is None, await _stderr(process)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _stderr(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    return (await process.stderr.read()).decode(errors="replace")[-2000:]


async def _log(url: str, token: str, student_id: str, kind: str = "NEGATIVE") -> str:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{url}/graphql",
            json={"query": LOG, "variables": {"s": student_id, "kind": kind}},
            headers={"Authorization": f"Bearer {token}"},
        )
    payload = response.json()["data"]["logIncident"]
    assert payload["errors"] == [], payload
    incident_id: str = payload["incident"]["id"]
    return incident_id


async def _feeds(url: str, count: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(500):
            metrics = (await http.get(f"{url}/metrics")).text
            found = [ln for ln in metrics.splitlines() if ln.startswith("schoolgraph_live_feeds ")]
            if found and float(found[0].split()[1]) >= count:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never followed {count} feeds")


def _ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/graphql"


async def test_a_subscriber_on_one_replica_sees_a_mutation_made_on_the_other(
    servers: Servers, db: Database, org: Org
) -> None:
    student = await make_student(db, org, class_code="R1")
    sid = to_global_id("Student", student.id)
    token = org.token(Role.TEACHER)
    async with replica(servers) as one, replica(servers) as two:
        school = await Subscription.open(_ws(one), token, INCIDENTS, protocol=TRANSPORT_WS)
        own_class = await Subscription.open(
            _ws(one), token, INCIDENTS, {"scope": {"classCode": "R1"}}, protocol=LEGACY_WS
        )
        board = await Subscription.open(_ws(one), token, DASHBOARD)
        on_two = await Subscription.open(_ws(two), token, INCIDENTS)
        subs = (school, own_class, board, on_two)
        try:
            before = (await board.data(WAIT))["dashboard"]["incidentsToday"]["negative"]
            # Every feed is listening before the mutation: the school's (shared with the
            # dashboard) and the class's on one, the school's on two.
            await _feeds(one, 2)
            await _feeds(two, 1)
            incident = await _log(two, token, sid)
            for sub in (school, own_class, on_two):
                got = (await sub.data(WAIT))["incidentLogged"]
                assert got["incident"]["id"] == incident
                assert got["incident"]["student"]["id"] == sid
            snapshot = (await board.data(WAIT))["dashboard"]
            assert snapshot["incidentsToday"]["negative"] == before + 1

            # And the other way round.
            back = await _log(one, token, sid, "POSITIVE")
            assert (await on_two.data(WAIT))["incidentLogged"]["incident"]["id"] == back
            assert (await school.data(WAIT))["incidentLogged"]["incident"]["id"] == back
        finally:
            for sub in subs:
                await sub.close()
