"""Where documents come from: one SQL relation of every source row that has text, as the
indexer embeds it and as the staleness check compares it (the same expressions, so a
document is stale exactly when its source's text, label or the active model changed).

Columns: org_id, source_type, source_id, student_id, incident_id, intervention_id, label,
content, written_at, content_hash."""

from __future__ import annotations

# An incident's text: its note and, when given, its ABC record.
_INCIDENT_CONTENT = (
    "concat_ws(E'\\n', nullif(btrim(i.note), ''),"
    " 'Before: ' || nullif(btrim(i.antecedent), ''),"
    " 'Behaviour: ' || nullif(btrim(i.behaviour), ''),"
    " 'After: ' || nullif(btrim(i.consequence), ''))"
)

SOURCES = f"""
SELECT i.org_id,
       CASE WHEN i.source LIKE 'import%' THEN 'IMPORTED_COMMENT' ELSE 'INCIDENT_NOTE' END
           AS source_type,
       i.id AS source_id, i.student_id, i.id AS incident_id, NULL::uuid AS intervention_id,
       i.category AS label, {_INCIDENT_CONTENT} AS content, i.occurred_at AS written_at
  FROM incidents i
 WHERE i.voided_at IS NULL AND {_INCIDENT_CONTENT} <> ''
UNION ALL
SELECT s.org_id, 'SUPPORT_NOTES', s.id, s.id, NULL, NULL, 'Support notes',
       btrim(s.support_notes), s.updated_at
  FROM students s
 WHERE btrim(s.support_notes) <> ''
UNION ALL
SELECT v.org_id, 'INTERVENTION_NOTES', v.id, v.student_id, NULL, v.id, v.type,
       btrim(v.notes), v.start_date::timestamptz
  FROM interventions v
 WHERE btrim(v.notes) <> ''
"""

# The hash a document keeps of what it was built from (its source's label and text).
HASH = "md5(src.label || E'\\x1f' || src.content)"

# Every source beside its document (if any) and its org's reindex request (if any).
_JOINED = f"""
  FROM ({SOURCES}) src
  LEFT JOIN documents d
    ON d.org_id = src.org_id AND d.source_type = src.source_type
   AND d.source_id = src.source_id
  LEFT JOIN search_reindex r ON r.org_id = src.org_id
"""

# A source whose document is missing or stale: of another model, of other text, or built
# before a reindex was asked for.
_STALE = f"""(d.id IS NULL OR d.model <> :model OR d.content_hash <> {HASH}
        OR d.indexed_at < coalesce(r.requested_at, '-infinity'))"""

# Stale sources; {where} narrows them (an org, some students).
PENDING = (
    f"SELECT src.*, {HASH} AS content_hash {_JOINED} WHERE {{where}} AND {_STALE} LIMIT :limit"
)

# The orgs with a stale source (the sweep, as the owner: across orgs).
ORGS_PENDING = f"SELECT DISTINCT src.org_id {_JOINED} WHERE {_STALE}"

# One org's sources, and how many of them have a fresh document.
STATUS = f"""
SELECT count(*) AS sources, count(*) FILTER (WHERE NOT {_STALE}) AS indexed,
       max(r.requested_at) AS requested_at
{_JOINED} WHERE src.org_id = :org_id
"""

# A document whose source no longer has text (or is void): probed by primary key per
# source table (a NOT EXISTS over the union would be planned as a scan of it per document).
_GONE = f"""(
    (d.incident_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM incidents i WHERE i.id = d.incident_id AND i.voided_at IS NULL
           AND {_INCIDENT_CONTENT} <> ''))
 OR (d.source_type = 'SUPPORT_NOTES' AND NOT EXISTS (
        SELECT 1 FROM students s WHERE s.id = d.source_id AND btrim(s.support_notes) <> ''))
 OR (d.intervention_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM interventions v WHERE v.id = d.intervention_id
           AND btrim(v.notes) <> '')))"""

# Documents whose source is gone: a voided incident, a note cleared (a deleted row takes
# its document with it by foreign key); {where} narrows them.
ORPHANS = f"DELETE FROM documents d WHERE {{where}} AND {_GONE}"

ORGS_WITH_ORPHANS = f"SELECT DISTINCT d.org_id FROM documents d WHERE {_GONE}"
