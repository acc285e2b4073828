"""Generated files (exports, reports) and erasure tombstones."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.graphql.relay import Node, to_global_id
from app.graphql.students.fields import resolve_student
from app.records.models import Erasure as ErasureModel
from app.records.models import ErasureStatus as _ErasureStatus
from app.records.models import FileKind as _Kind
from app.records.models import FileStatus as _Status
from app.records.models import GeneratedFile as GeneratedFileModel

GeneratedFileKind = strawberry.enum(_Kind, name="GeneratedFileKind")
GeneratedFileStatus = strawberry.enum(_Status, name="GeneratedFileStatus")
ErasureStatus = strawberry.enum(
    _ErasureStatus,
    name="ErasureStatus",
    description="ERASED: every row is gone (one transaction); the generated files about "
    "the student are being removed. VERIFIED: and none is left on disk.",
)


def download_path(file_id: object) -> str:
    return f"/files/{file_id}"


@strawberry.type(
    description="A file a job makes (a student's record, an IEP report). When READY, GET "
    "downloadUrl with the bearer token of whoever asked for it, or an ADMIN's, until "
    "expiresAt."
)
class GeneratedFile(Node):
    model: strawberry.Private[GeneratedFileModel]
    kind: GeneratedFileKind  # type: ignore[valid-type]
    status: GeneratedFileStatus  # type: ignore[valid-type]
    requested_by: str
    done: int = strawberry.field(description="Progress: items made so far.")
    total: int = strawberry.field(description="Progress: items to make (0 until known).")
    name: str | None = strawberry.field(description="The download's file name.")
    size: int | None = strawberry.field(description="Bytes.")
    sha256: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None

    student = strawberry.field(resolver=resolve_student)

    @strawberry.field(description="Where to GET it (with a bearer token) once READY.")
    def download_url(self) -> str | None:
        return download_path(self.model.id) if self.model.status is _Status.READY else None

    @classmethod
    def from_model(cls, row: GeneratedFileModel) -> GeneratedFile:
        return cls(
            model=row,
            id=to_global_id("GeneratedFile", row.id),
            kind=row.kind,
            status=row.status,
            requested_by=row.requested_by,
            done=row.done,
            total=row.total,
            name=row.name,
            size=row.size,
            sha256=row.sha256,
            error=row.error,
            created_at=row.created_at,
            finished_at=row.finished_at,
            expires_at=row.expires_at,
        )


@strawberry.type
class TableCount:
    table: str
    rows: int


@strawberry.type(description="The tombstone of an erased student: who, when, why, how much.")
class Erasure:
    id: strawberry.ID
    actor: str
    actor_role: str
    reason: str
    counts: list[TableCount] = strawberry.field(description="Rows deleted, by table.")
    status: ErasureStatus  # type: ignore[valid-type]
    erased_at: datetime
    verified_at: datetime | None

    @classmethod
    def from_model(cls, row: ErasureModel) -> Erasure:
        return cls(
            id=to_global_id("Erasure", row.id),
            actor=row.actor_sub,
            actor_role=row.actor_role,
            reason=row.reason,
            counts=[TableCount(table=t, rows=n) for t, n in row.counts.items()],
            status=row.status,
            erased_at=row.erased_at,
            verified_at=row.verified_at,
        )
