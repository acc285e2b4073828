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
    # The declared limits are checked first, before any service work...
    errors = {e["field"] for e in body["data"]["updateOrgPolicy"]["errors"]}
    assert errors == {"strikes.negativesPerStrike"}
    # ...then the rules between the values, every one of them named.
    body = await gql(
        UPDATE,
        {
            "input": {
                "strikes": {"rungs": [{"consequence": " "}]},
                "risk": {"chronicAbsencePct": 30, "severeAbsencePct": 20, "strikeLevel": 3},
            }
        },
        token=org.token(),
    )
    errors = {e["field"] for e in body["data"]["updateOrgPolicy"]["errors"]}
    assert errors == {
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


LADDER = """mutation($input: UpdateOrgPolicyInput!) { updateOrgPolicy(input: $input) {
  policy { strikes { negativesPerStrike maxStrike rungs { consequence adminNotified } }
           risk { strikeLevel } }
  errors { field message code } } }"""
LADDER_NOW = "{ orgPolicy { strikes { maxStrike rungs { consequence } } } }"
TWO_RUNGS = [{"consequence": "Reminder"}, {"consequence": "Detention", "adminNotified": True}]


async def _ladder(gql: GraphQLClient, org: Org, strikes: dict, **more: object) -> dict:  # type: ignore[type-arg]
    body = await gql(LADDER, {"input": {"strikes": strikes, **more}}, token=org.token(Role.ADMIN))
    payload: dict = body["data"]["updateOrgPolicy"]  # type: ignore[type-arg]
    return payload


async def test_an_empty_or_invalid_ladder_is_refused_and_changes_nothing(
    gql: GraphQLClient, org: Org
) -> None:
    set_two = await _ladder(gql, org, {"rungs": TWO_RUNGS}, risk={"strikeLevel": 2})
    assert set_two["errors"] == [] and set_two["policy"]["strikes"]["maxStrike"] == 2
    stored = (await gql(LADDER_NOW, token=org.token()))["data"]

    cases: list[tuple[dict, list[tuple[str, str]]]] = [  # type: ignore[type-arg]
        ({"rungs": []}, [("strikes.rungs", "OUT_OF_RANGE")]),
        ({"rungs": None}, [("strikes.rungs", "INVALID")]),
        (
            {"rungs": [{"consequence": f"Step {i}"} for i in range(6)]},
            [("strikes.rungs", "OUT_OF_RANGE")],
        ),
        (
            {"rungs": [{"consequence": "  "}, {"consequence": "ok"}]},
            [("strikes.rungs[0].consequence", "INVALID")],
        ),
        (
            {"rungs": [{"consequence": "ok"}, {"consequence": "bad\u0007bell"}]},
            [("strikes.rungs[1].consequence", "INVALID_CHARACTERS")],
        ),
        ({"rungs": TWO_RUNGS, "resetRungs": True}, [("strikes.resetRungs", "INVALID")]),
    ]
    for strikes, expected in cases:
        payload = await _ladder(gql, org, {"negativesPerStrike": 1, **strikes})
        assert payload["policy"] is None, strikes
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, strikes
    empty = await _ladder(gql, org, {"rungs": []})
    assert "resetRungs" in empty["errors"][0]["message"]
    # The two-rung ladder is still there: nothing went back to the default on the way.
    assert (await gql(LADDER_NOW, token=org.token()))["data"] == stored


async def test_reset_rungs_puts_back_the_default_ladder(gql: GraphQLClient, org: Org) -> None:
    four = [{"consequence": f"Step {i}"} for i in range(1, 5)]
    payload = await _ladder(
        gql, org, {"rungs": four, "negativesPerStrike": 1}, risk={"strikeLevel": 4}
    )
    assert payload["errors"] == [] and payload["policy"]["strikes"]["maxStrike"] == 4

    # Back to three rungs would leave risk.strikeLevel 4 out of reach: that is said, not done.
    payload = await _ladder(gql, org, {"resetRungs": True})
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("risk.strikeLevel", "OUT_OF_RANGE")
    ]
    payload = await _ladder(gql, org, {"resetRungs": True}, risk={"strikeLevel": 3})
    assert payload["errors"] == []
    strikes = payload["policy"]["strikes"]
    assert strikes["negativesPerStrike"] == 1  # the rest of the strike policy stays
    assert [r["consequence"] for r in strikes["rungs"]] == [
        "Warning issued",
        "Second warning - admin notified",
        "Third strike - HOD consultation required",
    ]
    assert [r["adminNotified"] for r in strikes["rungs"]] == [False, True, False]
    # resetRungs: false changes nothing.
    payload = await _ladder(gql, org, {"resetRungs": False, "windowHours": 48})
    assert payload["errors"] == [] and payload["policy"]["strikes"]["maxStrike"] == 3
