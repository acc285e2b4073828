"""logIncident's writes written by hand: the raw floor of the incident journey.

The statements the API's journey runs for a negative incident when the risk history does not
change (tests/graphql/test_incident_statements.py pins the count), in one asyncpg
transaction: lock the student and read the policy (one statement), count the strike window,
insert the incident, its audit row and its event, read the risk inputs (the journey's own
statement, app.risk.service.INPUTS: behaviour, IEP, diagnostics and attendance in one), and
update the student. Its statements run on their generic plans, as the API's journey does
(Database.transaction's `generic_plans`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from app.risk.service import INPUTS
from bench.floors import SCOPE

# The read floors' scope, and the journeys' plan mode.
WRITE_SCOPE = SCOPE + ", set_config('plan_cache_mode', 'force_generic_plan', true)"
RAW_STATEMENTS = {
    "lock": "SELECT id, house_points, (SELECT settings::text FROM orgs WHERE id = $2) "
    "FROM students WHERE id = $1 FOR UPDATE",
    "strike": "SELECT count(*) FROM incidents WHERE org_id = $1 AND student_id = $2 "
    "AND kind = 'NEGATIVE' AND occurred_at > now() - interval '24 hours'",
    "insert": "INSERT INTO incidents (id, org_id, student_id, kind, category, points, "
    "occurred_at, source, strike_level, consequence_text, admin_notified, hod_consulted, "
    "parent_meeting_scheduled, created_at, updated_at) VALUES ($1, $2, $3, 'NEGATIVE', 'b', "
    "-1, now(), 'bench', $4, 'x', false, false, false, now(), now())",
    "audit": "INSERT INTO audit_log (org_id, actor_sub, actor_role, action, entity_type, "
    "entity_id, after) VALUES ($1, 'bench', 'ADMIN', 'incident.log', 'Incident', $2, '{}')",
    "event": "INSERT INTO events (org_id, topic, student_id, year_group, class_code, payload) "
    "SELECT org_id, 'incident.logged', id, year_group, class_code, '{}' FROM students "
    "WHERE id = $1",
    "update": "UPDATE students SET house_points = house_points - 1, risk_computed_at = now(), "
    "updated_at = now() WHERE id = $1",
}


async def raw_log_incident(conn: asyncpg.Connection, org_id: uuid.UUID, sid: uuid.UUID) -> int:
    """One logIncident by hand, inside the caller's transaction; its strike level."""
    q = RAW_STATEMENTS
    await conn.execute(WRITE_SCOPE, str(org_id))
    await conn.fetchrow(q["lock"], sid, org_id)
    prior = await conn.fetchval(q["strike"], org_id, sid)
    strike = min(prior // 2 + 1, 3)
    iid = uuid.uuid4()
    await conn.execute(q["insert"], iid, org_id, sid, strike)
    await conn.execute(q["audit"], org_id, iid)
    await conn.execute(q["event"], sid)
    now = datetime.now(UTC)
    await conn.fetch(
        INPUTS.sql,
        *INPUTS.args(
            {
                "org_id": org_id,
                "ids": [sid],
                "since": now - timedelta(days=7),
                "now": now,
                "n": 30,
                "end": None,
            }
        ),
    )
    await conn.execute(q["update"], sid)
    return strike
