"""Which read path served a request is on its log line and in /metrics."""

from __future__ import annotations

import io

from app.config import Settings
from tests.conftest import GraphQLClient, Org, Servers
from tests.support import client_for

CLASS_VIEW = """query ClassView($c: String!) { students(first: 30, filter: {classCode: $c}) {
    edges { node { id name incidents(first: 10) { edges { node { id kind } } } } } } }"""


def _metric(text: str, path: str, cached: str) -> float:
    for line in text.splitlines():
        if line.startswith(
            f'schoolgraph_graphql_reads_total{{path="{path}",plan_cached="{cached}"}}'
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_the_read_path_is_logged_and_counted(
    gql: GraphQLClient, org: Org, captured_log: io.StringIO
) -> None:
    before = (await gql.http.get("/metrics")).text
    variables = {"c": "OBS-" + org.slug}  # a class of its own: a fresh plan key is not needed
    for _ in range(2):
        body = await gql(CLASS_VIEW, variables, token=org.token())
        assert "errors" not in body
    body = await gql("{ me { sub } }", token=org.token())
    lines = [ln for ln in captured_log.getvalue().splitlines() if "operation=ClassView" in ln]
    assert len(lines) == 2 and all("read_path=compiled" in ln for ln in lines), lines
    assert "plan_cached=True" in lines[1]
    resolved = [ln for ln in captured_log.getvalue().splitlines() if "read_path=resolved" in ln]
    assert resolved, "the resolver path is named too"
    after = (await gql.http.get("/metrics")).text
    assert _metric(after, "compiled", "true") >= _metric(before, "compiled", "true") + 1
    assert _metric(after, "resolved", "n/a") >= _metric(before, "resolved", "n/a") + 1


async def test_compiled_reads_can_be_switched_off(
    settings: Settings, servers: Servers, org: Org, captured_log: io.StringIO
) -> None:
    off = settings.model_copy(update={"compiled_reads": False})
    async with client_for(off, servers) as http:
        response = await http.post(
            "/graphql",
            json={"query": CLASS_VIEW, "variables": {"c": "7A"}},
            headers={"Authorization": f"Bearer {org.token()}"},
        )
    assert response.status_code == 200 and "errors" not in response.json()
    line = next(ln for ln in captured_log.getvalue().splitlines() if "operation=ClassView" in ln)
    assert "read_path=resolved" in line
