"""What subscribers share: the SQL per event does not grow with the number of subscribers,
and the dashboard's figures are the queries' figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from app.db import Database
from app.graphql.relay import to_global_id
from app.incidents.models import IncidentKind
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, counting_statements
from tests.factories import log, make_student
from tests.live.wsclient import Subscription

FEED = """subscription($scope: ScopeInput) {
  incidentLogged(scope: $scope) { id incident { id kind student { name riskTier } } } }"""


async def _statements_per_event(
    ws_url: str, app_db: Database, db: Database, org: Org, subscribers: int, code: str
) -> int:
    student = await make_student(db, org, class_code=code)
    token = org.token(Role.TEACHER)
    subs = [
        await Subscription.open(ws_url, token, FEED, {"scope": {"classCode": code}})
        for _ in range(subscribers)
    ]
    await asyncio.sleep(0.3)  # every subscription is following
    try:
        with counting_statements(app_db) as counter:
            # Written through the tests' own Database: only the delivery's SQL is counted
            # (the feed finds the event on its timer, without a broadcast).
            await log(db, org, student.id)
            for sub in subs:
                got = await sub.data(wait=15)
                assert got["incidentLogged"]["incident"]["student"]["riskTier"] >= 1
        return len(counter.data_statements)
    finally:
        for sub in subs:
            await sub.close()


async def test_sql_per_event_does_not_grow_with_subscribers(
    ws_url: str, app_db: Database, db: Database, org: Org
) -> None:
    one = await _statements_per_event(ws_url, app_db, db, org, 1, "FO1")
    many = await _statements_per_event(ws_url, app_db, db, org, 25, "FO2")
    assert one == many, (one, many)
    assert one <= 6, one  # the feed's read, the incident, its student, the student's risk


DASHBOARD = """subscription($scope: ScopeInput) { dashboard(scope: $scope) {
  eventId incidentsToday { positive negative neutral } housePointsToday
  attendanceRateToday attendanceRateWeek studentsByTier { tier count } openInterventions } }"""

FIGURES = """query($code: String!, $from: DateTime!, $to: DateTime!) {
  incidents(first: 100, filter: {classCode: $code, from: $from, to: $to, voided: false}) {
    nodes { kind points } }
  students(first: 100, filter: {classCode: $code}) {
    nodes { riskTier attendanceSummary { rate daysEnrolled } } } }"""

ATTEND = """mutation($s: ID!, $d: Date!, $code: String) {
  recordAttendance(input: {days: [{studentId: $s, day: $d, allDayCode: $code}]}) {
    errors { field message } } }"""


async def test_the_dashboard_equals_what_the_queries_say(
    ws_url: str, app_db: Database, org: Org, gql: GraphQLClient
) -> None:
    code = "DB1"
    ann = await make_student(app_db, org, class_code=code)
    ben = await make_student(app_db, org, class_code=code)
    await make_student(app_db, org, class_code="DB2")  # another class: not counted
    token = org.token(Role.ADMIN)
    today = datetime.now(UTC).date()
    for student, absent in ((ann, "A"), (ben, None)):
        body = await gql(
            ATTEND,
            {"s": to_global_id("Student", student.id), "d": today.isoformat(), "code": absent},
            token=token,
        )
        assert body["data"]["recordAttendance"]["errors"] == [], body
    sub = await Subscription.open(ws_url, token, DASHBOARD, {"scope": {"classCode": code}})
    try:
        first = (await sub.data())["dashboard"]
        await log(app_db, org, ann.id, kind=IncidentKind.POSITIVE)
        await log(app_db, org, ben.id)
        await log(app_db, org, ben.id)
        snap = first
        for _ in range(10):  # coalesced: the last snapshot has all three
            snap = (await sub.data())["dashboard"]
            counts = snap["incidentsToday"]
            if counts["positive"] + counts["negative"] == 3:
                break
        start = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        body = await gql(
            FIGURES,
            {
                "code": code,
                "from": start.isoformat(),
                "to": (start + timedelta(days=1) - timedelta(microseconds=1)).isoformat(),
            },
            token=token,
        )
        data = body["data"]
        kinds = [n["kind"] for n in data["incidents"]["nodes"]]
        assert snap["incidentsToday"] == {
            "positive": kinds.count("POSITIVE"),
            "negative": kinds.count("NEGATIVE"),
            "neutral": kinds.count("NEUTRAL"),
        }
        assert snap["housePointsToday"] == sum(n["points"] for n in data["incidents"]["nodes"])
        rates = [s["attendanceSummary"]["rate"] for s in data["students"]["nodes"]]
        assert snap["attendanceRateToday"] == round(sum(rates) / len(rates), 4)  # equal periods
        tiers = [s["riskTier"] for s in data["students"]["nodes"]]
        assert {t["tier"]: t["count"] for t in snap["studentsByTier"]} == {
            t: tiers.count(t) for t in (1, 2, 3)
        }
        assert snap["eventId"] and snap["eventId"] != first["eventId"]
        assert snap["openInterventions"] == 0
        assert isinstance(today, date)
    finally:
        await sub.close()
