"""The transactional outbox: which deliveries an event makes, written by the same statement
that writes the event (app.events.service.record), so a change and its pushes commit or roll
back together and cost no extra round trip (an org with no endpoints writes none).

Triggers (PTCC's targets):
- `incident.logged`: every incident to GENERIC endpoints; negative ones to BEHAVIOUR_MANAGEMENT.
- `incident.admin_notified`: an incident whose strike notifies the admin, or whose
  follow-up flags are changed to say the admin is notified, to ADMIN_ALERT.
- `risk.changed`: a risk tier rise, or an incident at strike 2 or more, to AT_RISK.
GENERIC endpoints get every type they subscribe to. An endpoint with `event_types` gets
only those of the types its kind triggers on.

The body is the Standard Webhooks shape: {"type", "timestamp", "data"}."""

from __future__ import annotations

EVENT_TYPES = ("incident.logged", "incident.admin_notified", "risk.changed")
# The event-log topics whose events can make a delivery (the others skip the outbox).
OUTBOX_TOPICS = frozenset({"incident.logged", "incident.updated", "risk.changed"})
TEST_EVENT = "test"

_INCIDENT_DATA = """jsonb_build_object(
    'incidentId', i.id, 'studentId', s.id, 'studentExternalId', s.external_id,
    'kind', i.kind, 'incidentType', i.category, 'strikeLevel', i.strike_level,
    'points', i.points, 'occurredAt', i.occurred_at, 'note', i.note, 'source', i.source,
    'consequence', i.consequence_text, 'adminNotified', i.admin_notified,
    'classCode', i.class_code, 'loggedBy', i.logged_by)"""

_RISK_DATA = """jsonb_build_object(
    'studentId', s.id, 'studentExternalId', s.external_id,
    'riskCategory', coalesce(ev.payload->'factors'->>0, 'behaviour'),
    'severity', s.risk_tier, 'previousTier', (ev.payload->>'previousTier')::int,
    'reason', CASE WHEN ev.topic = 'risk.changed' THEN 'tier_rise' ELSE 'strike' END,
    'strikeLevel', i.strike_level,
    'recentIncidentCount', (SELECT count(*) FROM incidents r
                             WHERE r.student_id = s.id AND r.kind = 'NEGATIVE'
                               AND r.voided_at IS NULL
                               AND r.occurred_at > now() - interval '30 days'),
    'action', 'flag_for_review')"""

# The outbox rows of the events in CTE `ev` (columns org_id, id, topic, payload,
# student_id) of org `:org_id`, as a data-modifying CTE named `outbox` returning the
# deliveries' ids.
OUTBOX_CTE = f"""
outbox AS (
    INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, body,
                                    status, attempts, next_attempt_at, created_at)
    SELECT gen_random_uuid(), ev.org_id, ep.id, ev.id, t.type,
           jsonb_build_object('type', t.type, 'timestamp', now(), 'data', t.data),
           'PENDING', 0, now(), now()
      FROM ev
      JOIN students s ON s.id = ev.student_id
      LEFT JOIN incidents i
        ON ev.topic IN ('incident.logged', 'incident.updated')
       AND i.id = (ev.payload->>'incidentId')::uuid
      CROSS JOIN LATERAL (
          SELECT 'incident.logged' AS type,
                 CASE WHEN i.kind = 'NEGATIVE' THEN ARRAY['GENERIC', 'BEHAVIOUR_MANAGEMENT']
                      ELSE ARRAY['GENERIC'] END AS kinds,
                 {_INCIDENT_DATA} AS data
           WHERE ev.topic = 'incident.logged'
          UNION ALL
          SELECT 'incident.admin_notified', ARRAY['GENERIC', 'ADMIN_ALERT'], {_INCIDENT_DATA}
           WHERE (ev.topic = 'incident.logged' AND i.admin_notified)
              OR (ev.topic = 'incident.updated'
                  AND coalesce((ev.payload->>'adminNotified')::boolean, false))
          UNION ALL
          SELECT 'risk.changed', ARRAY['GENERIC', 'AT_RISK'], {_RISK_DATA}
           WHERE (ev.topic = 'risk.changed'
                  AND (ev.payload->>'tier')::int > coalesce((ev.payload->>'previousTier')::int, 0))
              OR (ev.topic = 'incident.logged' AND i.kind = 'NEGATIVE'
                  AND coalesce(i.strike_level, 0) >= 2)
      ) t
      JOIN integration_endpoints ep
        ON ep.org_id = ev.org_id AND ep.active AND ep.kind::text = ANY(t.kinds)
       AND (ep.event_types IS NULL OR t.type = ANY(ep.event_types))
     -- One probe for the statement: an org with no endpoint builds no payload.
     WHERE EXISTS (SELECT 1 FROM integration_endpoints e
                    WHERE e.org_id = CAST(:org_id AS uuid) AND e.active)
    RETURNING id
)"""
