"""Admins change their org's policy; strikes and risk follow; nobody else's policy moves."""

from __future__ import annotations

from sqlalchemy import text

from app.db import Database
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, make_org
from tests.graphql.test_contract import LOG, upsert

UPDATE = """mutation($input: UpdateOrgPolicyInput!) { updateOrgPolicy(input: $input) {
  policy { strikes { windowHours negativesPerStrike maxStrike rungs { strike consequence } }
           risk { behaviourNegatives chronicAbsencePct } housePoints { negative } }
  errors { field code } } }"""
POLICY = "{ orgPolicy { strikes { negativesPerStrike maxStrike } risk { behaviourNegatives } } }"


async def _log(gql: GraphQLClient, org: Org, sid: str) -> dict:  # type: ignore[type-arg]
    body = await gql(
        LOG,
        {"input": {"studentId": sid, "kind": "NEGATIVE", "category": "late"}},
        token=org.token(),
    )
    incident: dict = body["data"]["logIncident"]["incident"]  # type: ignore[type-arg]
    return incident


async def test_policy_change_drives_strikes_and_risk(gql: GraphQLClient, db: Database) -> None:
    org, other = await make_org(db), await make_org(db)
    sid = await upsert(gql, org, "PO1")
    first = await _log(gql, org, sid)
    assert first["strikeLevel"] == 1 and first["student"]["riskTier"] == 1

    body = await gql(
        UPDATE,
        {
            "input": {
                "strikes": {
                    "negativesPerStrike": 1,
                    "rungs": [
                        {"consequence": "Reminder"},
                        {"consequence": "Detention", "adminNotified": True},
                        {"consequence": "Call home", "adminNotified": True, "hodConsulted": True},
                        {"consequence": "Exclusion review", "hodConsulted": True},
                    ],
                },
                "risk": {"behaviourNegatives": 1},
                "housePoints": {"negative": -3},
            }
        },
        token=org.token(Role.ADMIN),
    )
    payload = body["data"]["updateOrgPolicy"]
    assert payload["errors"] == []
    assert payload["policy"]["strikes"]["maxStrike"] == 4
    assert payload["policy"]["risk"] == {"behaviourNegatives": 1, "chronicAbsencePct": 10.0}

    # New thresholds recomputed the student at once: one negative in 7 days now counts.
    body = await gql(
        "query($id: ID!) { student(id: $id) { riskTier } }", {"id": sid}, token=org.token()
    )
    assert body["data"]["student"]["riskTier"] == 2
    second = await _log(gql, org, sid)
    assert (second["strikeLevel"], second["consequenceText"]) == (2, "Detention")
    assert [(await _log(gql, org, sid))["strikeLevel"] for _ in range(3)] == [3, 4, 4]

    untouched = await gql(POLICY, token=other.token())
    assert untouched["data"]["orgPolicy"] == {
        "strikes": {"negativesPerStrike": 2, "maxStrike": 3},
        "risk": {"behaviourNegatives": 3},
    }


async def test_bad_policy_names_fields_and_changes_nothing(gql: GraphQLClient, org: Org) -> None:
    body = await gql(
        UPDATE,
        {
            "input": {
                "strikes": {"negativesPerStrike": 0, "rungs": [{"consequence": " "}]},
                "risk": {"chronicAbsencePct": 30, "severeAbsencePct": 20, "strikeLevel": 3},
            }
        },
        token=org.token(),
    )
    errors = {e["field"] for e in body["data"]["updateOrgPolicy"]["errors"]}
    assert errors == {
        "strikes.negativesPerStrike",
        "strikes.rungs[0].consequence",
        "risk.severeAbsencePct",
        "risk.strikeLevel",
    }
    body = await gql(POLICY, token=org.token())
    assert body["data"]["orgPolicy"]["strikes"] == {"negativesPerStrike": 2, "maxStrike": 3}


async def test_only_admins_change_policy(gql: GraphQLClient, org: Org) -> None:
    body = await gql(
        UPDATE, {"input": {"housePoints": {"positive": 5}}}, token=org.token(Role.TEACHER)
    )
    assert body["data"] is None and "requires role ADMIN" in body["errors"][0]["message"]
    body = await gql(POLICY, token=org.token(Role.AIDE))
    assert body["data"] is None


async def test_rls_keeps_other_orgs_rows_read_only(db: Database) -> None:
    a, b = await make_org(db), await make_org(db)
    async with db.transaction(b.id) as session:
        changed = await session.execute(
            text("UPDATE orgs SET name = 'hijacked' WHERE id = :id"), {"id": a.id}
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        own = await session.execute(
            text("UPDATE orgs SET name = 'renamed' WHERE id = :id"), {"id": b.id}
        )
        assert own.rowcount == 1  # type: ignore[attr-defined]


TIMEZONE = """mutation($input: UpdateOrgPolicyInput!) { updateOrgPolicy(input: $input) {
  policy { timezone } errors { field code } } }"""


async def test_timezone_is_validated_set_and_read(gql: GraphQLClient, org: Org) -> None:
    body = await gql(POLICY_TZ, token=org.token())
    assert body["data"]["orgPolicy"]["timezone"] == "UTC"

    for bad in ("Mars/Olympus_Mons", "", "../etc/passwd"):
        body = await gql(TIMEZONE, {"input": {"timezone": bad}}, token=org.token(Role.ADMIN))
        payload = body["data"]["updateOrgPolicy"]
        assert payload == {"policy": None, "errors": [{"field": "timezone", "code": "INVALID"}]}

    body = await gql(
        TIMEZONE, {"input": {"timezone": "Pacific/Auckland"}}, token=org.token(Role.ADMIN)
    )
    assert body["data"]["updateOrgPolicy"] == {
        "policy": {"timezone": "Pacific/Auckland"},
        "errors": [],
    }
    # Another change keeps the zone (the stored settings round-trip it).
    await gql(UPDATE, {"input": {"housePoints": {"positive": 2}}}, token=org.token(Role.ADMIN))
    body = await gql(POLICY_TZ, token=org.token())
    assert body["data"]["orgPolicy"]["timezone"] == "Pacific/Auckland"


POLICY_TZ = "{ orgPolicy { timezone } }"
