"""Every model, imported once so that metadata (Alembic, tests) sees all tables."""

from app.assessments.models import Assessment
from app.attendance.models import AttendanceCode, AttendanceDay
from app.audit.models import AuditEntry
from app.db import Base
from app.events.models import Event
from app.iep.models import IepGoal, IepNarrative, IepProbe
from app.imports.models import (
    ImportChange,
    ImportFile,
    ImportFileChunk,
    ImportJob,
    ImportKey,
    ImportRowError,
)
from app.incidents.models import Incident
from app.integrations.models import (
    Attempt,
    Delivery,
    Endpoint,
    InboundWebhook,
    SyncRun,
    SyncSource,
    WebhookSource,
)
from app.interventions.models import Intervention
from app.orgs.models import Org, User
from app.records.models import Erasure, GeneratedFile
from app.risk.models import RiskAssessment
from app.search.models import Document, Reindex
from app.students.models import Student

__all__ = [
    "Assessment",
    "Attempt",
    "AttendanceCode",
    "AttendanceDay",
    "AuditEntry",
    "Base",
    "Delivery",
    "Document",
    "Endpoint",
    "Erasure",
    "Event",
    "GeneratedFile",
    "IepGoal",
    "IepNarrative",
    "IepProbe",
    "ImportChange",
    "ImportFile",
    "ImportFileChunk",
    "ImportJob",
    "ImportKey",
    "ImportRowError",
    "InboundWebhook",
    "Incident",
    "Intervention",
    "Org",
    "Reindex",
    "RiskAssessment",
    "Student",
    "SyncRun",
    "SyncSource",
    "User",
    "WebhookSource",
]
