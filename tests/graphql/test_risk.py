"""Risk v1 over the graph: factors, tiers and history rows only on change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.orgs.policy import RiskThresholds
from app.risk.service import Indicator, RiskInputs, evaluate
from tests.conftest import GraphQLClient, Org
from tests.graphql.test_contract import LOG, upsert

HISTORY = """query($id: ID!) { student(id: $id) { riskTier
  risk { tier factors { indicator value threshold } }
  riskHistory { tier factors { indicator } trigger } } }"""


def test_evaluate_tiers() -> None:
    t = RiskThresholds()
    calm = RiskInputs(0, 0, 2.0, 30, 0)
    assert evaluate(calm, t).tier == 1
    assert evaluate(RiskInputs(3, 2, 2.0, 30, 0), t).tier == 2
    chronic = evaluate(RiskInputs(0, 0, 10.0, 30, None), t)
    assert chronic.tier == 2 and chronic.contributing[0]["indicator"] == "ATTENDANCE"
    assert evaluate(RiskInputs(0, 0, 20.0, 30, None), t).tier == 3  # severe counts twice
    both = evaluate(RiskInputs(0, 0, 12.0, 30, 2), t)
    assert both.tier == 3
    assert {f["indicator"] for f in both.contributing} == {
        Indicator.ATTENDANCE.value,
        Indicator.COURSE_PERFORMANCE.value,
    }
    assert evaluate(RiskInputs(0, 0, 9.99, 30, 1), t).tier == 1


async def test_risk_factors_and_history(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "K1")
    token = org.token()
    now = datetime.now(UTC)
    for i in range(3):
        await gql(
            LOG,
            {
                "input": {
                    "studentId": sid,
                    "kind": "NEGATIVE",
                    "category": "late",
                    "occurredAt": (now - timedelta(days=2 + i)).isoformat(),
                }
            },
            token=token,
        )
    student = (await gql(HISTORY, {"id": sid}, token=token))["data"]["student"]
    assert student["riskTier"] == 2
    assert student["risk"]["factors"] == [
        {"indicator": "BEHAVIOUR_INCIDENTS", "value": 3.0, "threshold": 3.0}
    ]
    history_len = len(student["riskHistory"])

    # A positive incident changes no factor: no new history row.
    await gql(
        LOG, {"input": {"studentId": sid, "kind": "POSITIVE", "category": "effort"}}, token=token
    )
    student = (await gql(HISTORY, {"id": sid}, token=token))["data"]["student"]
    assert len(student["riskHistory"]) == history_len

    # A diagnostic two grade levels below adds course performance: tier 3, one more row.
    body = await gql(
        """mutation($id: ID!, $on: Date!) { recordAssessment(input: {studentId: $id,
             kind: DIAGNOSTIC, subject: "Reading", takenOn: $on, scaleScore: 480,
             placement: "Early 5", relativePlacement: "2 Grade Levels Below"}) {
             assessment { subject academicYear gradeLevelsRelative } errors { field } } }""",
        {"id": sid, "on": date.today().isoformat()},
        token=token,
    )
    assert body["data"]["recordAssessment"]["assessment"]["subject"] == "ELA"
    assert body["data"]["recordAssessment"]["assessment"]["gradeLevelsRelative"] == -2
    student = (await gql(HISTORY, {"id": sid}, token=token))["data"]["student"]
    assert student["riskTier"] == 3
    assert len(student["riskHistory"]) == history_len + 1
    assert student["riskHistory"][0]["trigger"] == "assessment"


async def test_attendance_drives_risk(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "K2")
    token = org.token()
    days = []
    start = date.today() - timedelta(days=20)  # inside the recordable window all year round
    for n in range(10):
        day = start + timedelta(days=n)
        days.append({"studentId": sid, "day": day.isoformat(), "scheduledPeriods": 6})
    days[0]["allDayCode"] = "U"  # one unexcused day in ten: 10% missed
    days[1]["periodCodes"] = [{"period": 1, "code": "T"}]
    body = await gql(
        """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
             days { dailyStatus percentage } errors { field code } } }""",
        {"input": {"days": days}},
        token=token,
    )
    result = body["data"]["recordAttendance"]
    assert result["errors"] == []
    assert [d["dailyStatus"] for d in result["days"][:3]] == [
        "ABSENT_UNEXCUSED",
        "TARDY",
        "PRESENT",
    ]
    body = await gql(
        """query($id: ID!) { student(id: $id) { riskTier risk { factors { indicator value } }
             attendanceSummary { daysEnrolled rate unexcusedAbsences tardies chronicAbsenceBand } } }""",
        {"id": sid},
        token=token,
    )
    student = body["data"]["student"]
    assert student["attendanceSummary"] == {
        "daysEnrolled": 10,
        "rate": 0.9,
        "unexcusedAbsences": 1,
        "tardies": 1,
        "chronicAbsenceBand": "MODERATE",
    }
    assert student["riskTier"] == 2
    assert student["risk"]["factors"] == [{"indicator": "ATTENDANCE", "value": 10.0}]

    bad = await gql(
        """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
             errors { field code } } }""",
        {"input": {"days": [{"studentId": sid, "day": start.isoformat(), "allDayCode": "QQ"}]}},
        token=token,
    )
    assert bad["data"]["recordAttendance"]["errors"] == [
        {"field": "days[0].allDayCode", "code": "UNKNOWN_CODE"}
    ]
