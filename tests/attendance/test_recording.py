"""Recording attendance over GraphQL and the services, on the real database: the school-year
window, errors that name `days[i]`, every category a day carries, and the chronic-absence band
that needs enough recorded days before it (and risk) judges."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.attendance import flows
from app.attendance.models import AttendanceDay
from app.attendance.service import DayInput
from app.audit.models import AuditEntry
from app.core.errors import ServiceError
from app.db import Database
from app.graphql.relay import to_global_id
from app.orgs.models import Role
from tests.conftest import GraphQLClient, Org, StatementCounter, make_org
from tests.factories import make_student
from tests.graphql.test_contract import upsert

RECORD = """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
  days { day dailyStatus } errors { field code message } } }"""
SUMMARY = """query($id: ID!) { student(id: $id) { riskTier
  risk { factors { indicator } indicators { indicator triggered detail } }
  attendanceSummary { daysEnrolled excusedAbsences unexcusedAbsences tardies
    unexcusedPeriods tardyPeriods chronicAbsenceBand } } }"""
POLICY = """mutation($input: UpdateOrgPolicyInput!) { updateOrgPolicy(input: $input) {
  policy { risk { minEnrolledDays } attendance { schoolYearStart correctionGraceDays } }
  errors { field code } } }"""


def _today() -> date:
    return datetime.now(UTC).date()  # the test orgs keep the default time zone, UTC


def _school_days(count: int) -> list[date]:
    """`count` recent days, all inside the window whatever today is (it always reaches at
    least correctionGraceDays = 30 days back)."""
    return [_today() - timedelta(days=n) for n in range(count, 0, -1)]


async def _record(gql: GraphQLClient, org: Org, days: list[dict[str, Any]]) -> dict[str, Any]:
    body = await gql(RECORD, {"input": {"days": days}}, token=org.token())
    payload: dict[str, Any] = body["data"]["recordAttendance"]
    return payload


async def _days_stored(db: Database, org: Org) -> int:
    async with db.transaction(org.id) as session:
        return int(await session.scalar(select(func.count()).select_from(AttendanceDay)) or 0)


async def test_future_and_past_year_days_are_refused(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    sid = await upsert(gql, org, "W1")
    future = _today() + timedelta(days=2)  # the future in every time zone
    for day in (future, date(2024, 3, 4)):
        payload = await _record(gql, org, [{"studentId": sid, "day": day.isoformat()}])
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("days[0].day", "OUT_OF_RANGE")
        ]
        assert payload["days"] == []

    ok = _today() - timedelta(days=1)
    payload = await _record(
        gql,
        org,
        [
            {"studentId": sid, "day": ok.isoformat()},
            {"studentId": sid, "day": future.isoformat(), "allDayCode": "QQ"},
            {"studentId": sid, "day": (ok - timedelta(days=800)).isoformat()},
        ],
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("days[1].day", "OUT_OF_RANGE"),
        ("days[1].allDayCode", "UNKNOWN_CODE"),
        ("days[2].day", "OUT_OF_RANGE"),
    ]
    assert "in the future" in payload["errors"][0]["message"]
    assert await _days_stored(db, org) == 0  # all or nothing

    payload = await _record(gql, org, [{"studentId": sid, "day": _today().isoformat()}])
    assert payload["errors"] == [] and len(payload["days"]) == 1


async def test_the_window_uses_the_org_time_zone_and_the_correction_grace(db: Database) -> None:
    now = datetime(2026, 8, 10, 11, 30, tzinfo=UTC)  # 11 August at UTC+14
    utc, kiritimati = await make_org(db), await make_org(db, {"timezone": "Pacific/Kiritimati"})

    async def record(org: Org, day: date) -> list[str | None]:
        student = await make_student(db, org)
        try:
            async with db.transaction(org.id) as session:
                await flows.record_days(
                    session, actor=org.principal(), days=[DayInput(student.id, day, 6)], now=now
                )
        except ServiceError as exc:
            return [e.field for e in exc.errors]
        return []

    assert await record(kiritimati, date(2026, 8, 11)) == []
    assert await record(utc, date(2026, 8, 11)) == ["days[0].day"]
    # Ten days into the school year, last year's days may still be corrected ...
    assert await record(utc, date(2026, 6, 30)) == []
    assert await record(utc, date(2025, 7, 31)) == ["days[0].day"]  # ... not the year before
    # ... unless the org turned the grace off.
    strict = await make_org(db, {"attendance": {"correction_grace_days": 0}})
    assert await record(strict, date(2026, 6, 30)) == ["days[0].day"]


async def test_a_few_days_are_insufficient_data_then_the_bands_apply(
    gql: GraphQLClient, org: Org
) -> None:
    sid = await upsert(gql, org, "W2")
    days = [{"studentId": sid, "day": d.isoformat()} for d in _school_days(10)]
    days[0]["allDayCode"] = "E"
    assert (await _record(gql, org, days[:3]))["errors"] == []

    student = (await gql(SUMMARY, {"id": sid}, token=org.token()))["data"]["student"]
    summary = student["attendanceSummary"]
    assert (summary["daysEnrolled"], summary["excusedAbsences"]) == (3, 1)
    assert summary["chronicAbsenceBand"] == "INSUFFICIENT_DATA"  # 33% of 3 days: too few
    assert student["riskTier"] == 1 and student["risk"]["factors"] == []
    (attendance,) = [i for i in student["risk"]["indicators"] if i["indicator"] == "ATTENDANCE"]
    assert not attendance["triggered"] and "3 recorded, 10 needed" in attendance["detail"]

    # Ten days with one absence: 10% missed is chronic (MODERATE), as before.
    assert (await _record(gql, org, days[3:]))["errors"] == []
    student = (await gql(SUMMARY, {"id": sid}, token=org.token()))["data"]["student"]
    assert student["attendanceSummary"]["chronicAbsenceBand"] == "MODERATE"
    assert student["riskTier"] == 2
    assert student["risk"]["factors"] == [{"indicator": "ATTENDANCE"}]


async def test_min_enrolled_days_is_org_policy_and_recomputes_risk(
    gql: GraphQLClient, org: Org
) -> None:
    sid = await upsert(gql, org, "W3")
    days = [{"studentId": sid, "day": d.isoformat()} for d in _school_days(3)]
    days[1]["allDayCode"] = "E"
    assert (await _record(gql, org, days))["errors"] == []
    assert (await gql(SUMMARY, {"id": sid}, token=org.token()))["data"]["student"]["riskTier"] == 1

    body = await gql(POLICY, {"input": {"risk": {"minEnrolledDays": 3}}}, token=org.token())
    assert body["data"]["updateOrgPolicy"]["errors"] == []
    assert body["data"]["updateOrgPolicy"]["policy"] == {
        "risk": {"minEnrolledDays": 3},
        "attendance": {"schoolYearStart": "08-01", "correctionGraceDays": 30},
    }
    student = (await gql(SUMMARY, {"id": sid}, token=org.token()))["data"]["student"]
    assert student["attendanceSummary"]["chronicAbsenceBand"] == "SEVERE"
    assert student["riskTier"] == 3  # severe chronic absence counts twice

    for change, expected in [
        ({"risk": {"minEnrolledDays": 0}}, ("risk.minEnrolledDays", "OUT_OF_RANGE")),
        ({"attendance": {"schoolYearStart": "02-30"}}, ("attendance.schoolYearStart", "INVALID")),
    ]:
        body = await gql(POLICY, {"input": change}, token=org.token())
        errors = body["data"]["updateOrgPolicy"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [expected]


async def test_a_day_counts_toward_every_category_it_carries(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "W4")
    first, second = _school_days(2)
    payload = await _record(
        gql,
        org,
        [
            {
                "studentId": sid,
                "day": first.isoformat(),
                "periodCodes": [{"period": 2, "code": "A"}, {"period": 4, "code": "T"}],
            },
            {"studentId": sid, "day": second.isoformat(), "allDayCode": "U"},
        ],
    )
    assert payload["errors"] == []
    assert [d["dailyStatus"] for d in payload["days"]] == ["PARTIAL", "ABSENT_UNEXCUSED"]
    summary = (await gql(SUMMARY, {"id": sid}, token=org.token()))["data"]["student"][
        "attendanceSummary"
    ]
    assert summary == {
        "daysEnrolled": 2,
        "excusedAbsences": 0,
        "unexcusedAbsences": 2,  # the A+T day and the all-day U
        "tardies": 1,  # the A+T day
        "unexcusedPeriods": 7,  # one period + six
        "tardyPeriods": 1,
        "chronicAbsenceBand": "INSUFFICIENT_DATA",
    }


async def test_a_batch_of_one_names_its_index(gql: GraphQLClient, org: Org) -> None:
    sid = await upsert(gql, org, "W5")
    day = (_today() - timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"studentId": "garbage"}, [("days[0].studentId", "INVALID")]),
        (
            {"studentId": to_global_id("Student", uuid.uuid4())},
            [("days[0].studentId", "NOT_FOUND")],
        ),
        (
            {"periodCodes": [{"period": 9, "code": "A"}, {"period": 2, "code": "ZZ"}]},
            [
                ("days[0].periodCodes[0].period", "OUT_OF_RANGE"),
                ("days[0].periodCodes[1].code", "UNKNOWN_CODE"),
            ],
        ),
        (
            {"periodCodes": [{"period": 1, "code": "A"}, {"period": 1, "code": "T"}]},
            [("days[0].periodCodes[1].period", "DUPLICATE")],
        ),
        (  # one day's errors all name the entry by its index in the list
            {"periodCodes": [{"period": 2, "code": "A"}, {"period": 2, "code": "ZZ"}]},
            [
                ("days[0].periodCodes[1].period", "DUPLICATE"),
                ("days[0].periodCodes[1].code", "UNKNOWN_CODE"),
            ],
        ),
        ({"scheduledPeriods": 0}, [("days[0].scheduledPeriods", "OUT_OF_RANGE")]),
    ]
    for override, expected in cases:
        payload = await _record(gql, org, [{"studentId": sid, "day": day, **override}])
        assert sorted((e["field"], e["code"]) for e in payload["errors"]) == sorted(expected)


@pytest.mark.parametrize(
    "periods",
    [{"9": "A", "2": "ZZ", " 2": "T"}, [(9, "A"), (2, "ZZ"), (2, "T")]],
    ids=["mapping", "pairs"],
)
async def test_period_errors_name_the_entry_whatever_the_input(
    db: Database, org: Org, periods: Any
) -> None:
    student = await make_student(db, org)
    days = [DayInput(student.id, _today(), 6), DayInput(student.id, _today(), 6, None, periods)]
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await flows.record_days(session, actor=org.principal(), days=days)
    assert [(e.field, e.code.value) for e in refused.value.errors] == [
        ("days[1].periodCodes[0].period", "OUT_OF_RANGE"),
        ("days[1].periodCodes[1].code", "UNKNOWN_CODE"),
        ("days[1].periodCodes[2].period", "DUPLICATE"),
    ]


async def test_the_later_record_of_a_day_in_one_batch_wins(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    sid = await upsert(gql, org, "W6")
    day = (_today() - timedelta(days=1)).isoformat()
    payload = await _record(
        gql,
        org,
        [
            {"studentId": sid, "day": day, "allDayCode": "U"},
            {"studentId": sid, "day": day, "periodCodes": [{"period": 3, "code": "t"}]},
        ],
    )
    assert payload["errors"] == []
    assert [d["dailyStatus"] for d in payload["days"]] == ["TARDY", "TARDY"]
    async with db.transaction(org.id) as session:
        (stored,) = (await session.execute(select(AttendanceDay))).scalars().all()
        audits = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "attendance.record")
                )
            )
            .scalars()
            .all()
        )
    assert (stored.all_day_code, stored.period_codes) == (None, {"3": "T"})
    assert [(a.before, a.after["period_codes"]) for a in audits if a.after] == [(None, {"3": "T"})]


async def test_summary_with_band_is_flat_in_statements(
    gql: GraphQLClient, db: Database, count_statements: StatementCounter
) -> None:
    query = """query($n: Int!) { students(first: $n) { edges { node {
      attendanceSummary { tardies unexcusedPeriods chronicAbsenceBand } } } } }"""
    counts = []
    for size in (3, 30):
        org = await make_org(db)
        ids = [(await make_student(db, org)).id for _ in range(size)]
        async with db.transaction(org.id) as session:
            await flows.record_days(
                session, actor=org.principal(), days=[DayInput(i, _today(), 6) for i in ids]
            )
        count_statements.statements.clear()
        body = await gql(query, {"n": size}, token=org.token(Role.TEACHER))
        edges = body["data"]["students"]["edges"]
        assert {e["node"]["attendanceSummary"]["chronicAbsenceBand"] for e in edges} == {
            "INSUFFICIENT_DATA"
        }
        counts.append(len(count_statements.data_statements))
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("size", [1, 3])
async def test_service_errors_are_indexed_whatever_the_size(
    db: Database, org: Org, size: int
) -> None:
    days = [DayInput(uuid.uuid4(), _today(), 6, all_day_code="QQ") for _ in range(size)]
    with pytest.raises(ServiceError) as refused:
        async with db.transaction(org.id) as session:
            await flows.record_days(session, actor=org.principal(), days=days)
    fields = [e.field for e in refused.value.errors]
    assert fields == [f"days[{i}].allDayCode" for i in range(size)] + [
        f"days[{i}].studentId" for i in range(size)
    ]
