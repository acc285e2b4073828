"""Where a student's data is held: every org-owned table, said once.

Export (a FERPA access request) reads the rows of each Holding marked `export`; erasure
deletes the rows of every Holding, in this order (children before what they refer to);
retention reads its own list (app.records.retention). A table that holds no student's data
says why in NO_STUDENT_DATA. tests/records checks that every org-owned table in the
metadata is in exactly one of the two, so a new table cannot be forgotten.

Conditions are SQL over the table aliased `t`, with the parameters of `params()`: the
student's id (`:sid`, and as text `:sid_text`), their SIS id as JSON (`:ext_json`) and as
Python's repr (`:ext_repr`, an import key's spelling), and their name (`:name`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

_SID_IN = "strpos({}, :sid_text) > 0"


@dataclass(frozen=True)
class Holding:
    table: str
    where: str
    export: bool = True  # False: the rows hold other students' data too (raw import files)
    omit: tuple[str, ...] = ()  # columns left out of the export (derived numbers)
    order: str = "1"  # the export's order
    why: str = ""
    # The rows the export gives, when fewer than `where` (rows that would name other
    # students too are erased with the student but not handed out with their record).
    export_where: str | None = None
    # The statement that deletes the rows, when not a plain DELETE with `where` (it
    # returns the count): the audit log is append-only for the application.
    delete: str | None = None


def _has_sid(expr: str) -> str:
    return _SID_IN.format(expr)


_STUDENT_DELIVERIES = f"SELECT d.id FROM webhook_deliveries d WHERE {_has_sid('d.body::text')}"
_STUDENT_IMPORT_JOBS = (
    "SELECT c.job_id FROM import_changes c WHERE c.student_id = :sid OR c.entity_id = :sid"
)

HOLDINGS: tuple[Holding, ...] = (
    Holding(
        "import_file_chunks",
        "t.file_id IN (SELECT f.id FROM import_files f WHERE f.job_id IN "
        f"({_STUDENT_IMPORT_JOBS})) OR position(convert_to(:ext, 'UTF8') IN t.data) > 0",
        export=False,
        why="the raw files of imports that carried the student (other students' rows too)",
    ),
    Holding(
        "import_changes",
        "t.student_id = :sid OR t.entity_id = :sid OR " + _has_sid("coalesce(t.before::text, '')"),
        order="t.id",
    ),
    Holding("import_errors", "t.value IN (:ext, :name)", order="t.id"),
    Holding("import_keys", "strpos(t.key, :ext_repr) > 0", order="t.job_id, t.key"),
    Holding(
        "inbound_webhooks",
        "t.incident_id IN (SELECT i.id FROM incidents i WHERE i.student_id = :sid)"
        " OR strpos(coalesce(t.payload::text, '') || coalesce(t.raw, ''), :ext_json) > 0"
        " OR strpos(coalesce(t.payload::text, '') || coalesce(t.raw, ''), :name) > 0",
        order="t.received_at, t.id",
    ),
    Holding("webhook_attempts", f"t.delivery_id IN ({_STUDENT_DELIVERIES})", order="t.at, t.id"),
    Holding("webhook_deliveries", _has_sid("t.body::text"), order="t.created_at, t.id"),
    Holding("events", f"t.student_id = :sid OR {_has_sid('t.payload::text')}", order="t.id"),
    Holding(
        "audit_log",
        # The same condition as the function (migration 0014), which erasure calls.
        "t.entity_id = :sid OR "
        + _has_sid("coalesce(t.before::text, '') || coalesce(t.after::text, '')"),
        order="t.id",
        delete="SELECT erase_student_audit(:org, :sid)",
        # A caseload report's request and downloads list the whole class's ids.
        export_where="t.action NOT LIKE 'file.%.iep_reports'",
    ),
    # A file about the student, or a caseload's that includes them (its params list ids).
    Holding(
        "generated_files",
        "t.student_id = :sid OR " + _has_sid("t.params::text"),
        order="t.created_at, t.id",
        export_where="t.student_id = :sid",  # not a caseload's, which lists the class
    ),
    Holding(
        "documents",
        "t.student_id = :sid",
        omit=("embedding", "tsv"),
        order="t.source_type, t.source_id",
    ),
    Holding("iep_narratives", "t.student_id = :sid", order="t.goal_id, t.period_start"),
    Holding("iep_probes", "t.student_id = :sid", order="t.goal_id, t.taken_at"),
    Holding("iep_goals", "t.student_id = :sid", order="t.due_date, t.id"),
    Holding("interventions", "t.student_id = :sid", order="t.start_date, t.id"),
    Holding("risk_assessments", "t.student_id = :sid", order="t.computed_at, t.id"),
    Holding("assessments", "t.student_id = :sid", order="t.taken_on, t.id"),
    Holding("attendance_days", "t.student_id = :sid", order="t.day"),
    Holding("incidents", "t.student_id = :sid", order="t.occurred_at, t.id"),
    Holding("students", "t.id = :sid"),
)

# Org-owned tables without any student's data, and why.
NO_STUDENT_DATA: dict[str, str] = {
    "users": "staff accounts",
    "attendance_codes": "the school's code table",
    "search_reindex": "an org's rebuild requests",
    "integration_endpoints": "webhook addresses and secrets",
    "webhook_sources": "inbound webhook senders",
    "sync_sources": "Google Sheets addresses",
    "sync_runs": "counts of a sync",
    "import_jobs": "an import's status and counts",
    "import_files": "an upload's name, size and hash (its bytes are import_file_chunks)",
    "erasures": "tombstones: who erased, when, why, counts; never the student",
}


def params(student_id: uuid.UUID, external_id: str, name: str) -> dict[str, Any]:
    return {
        "sid": student_id,
        "sid_text": str(student_id),
        "ext": external_id,
        "ext_json": json.dumps(external_id),
        "ext_repr": repr(external_id),
        "name": name,
    }
