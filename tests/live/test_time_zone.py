"""The org policy's time zone under the name the dashboards use, `timeZone` (and the older
`timezone`, the same value)."""

from __future__ import annotations

from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org

UPDATE = """mutation($input: UpdateOrgPolicyInput!) {
  updateOrgPolicy(input: $input) { policy { timeZone timezone } errors { field code } } }"""


async def test_time_zone_is_set_and_read_by_either_name(gql: GraphQLClient, org: Org) -> None:
    token = org.token(Role.ADMIN)
    body = await gql(UPDATE, {"input": {"timeZone": "Europe/London"}}, token=token)
    assert body["data"]["updateOrgPolicy"] == {
        "policy": {"timeZone": "Europe/London", "timezone": "Europe/London"},
        "errors": [],
    }
    body = await gql(UPDATE, {"input": {"timezone": "America/Chicago"}}, token=token)
    assert body["data"]["updateOrgPolicy"]["policy"]["timeZone"] == "America/Chicago"
    body = await gql(
        UPDATE, {"input": {"timeZone": "UTC", "timezone": "Europe/Paris"}}, token=token
    )
    assert body["data"]["updateOrgPolicy"] == {
        "policy": None,
        "errors": [{"field": "timeZone", "code": "CONFLICT"}],
    }
    body = await gql(UPDATE, {"input": {"timeZone": "Mars/Olympus"}}, token=token)
    assert body["data"]["updateOrgPolicy"]["errors"][0]["code"] == "INVALID"
