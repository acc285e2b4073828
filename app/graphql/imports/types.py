"""An import job as the graph shows it: its status, counts and rejected rows."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.graphql.context import Info
from app.graphql.permissions import STAFF
from app.graphql.queries import read
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    connection_from_page,
    page_from,
    to_global_id,
)
from app.imports import service
from app.imports.kinds import ImportKind as _Kind
from app.imports.models import ImportJob as ImportJobModel
from app.imports.models import ImportRowError as ImportRowErrorModel
from app.imports.models import ImportStatus as _Status

ImportKind = strawberry.enum(_Kind, name="ImportKind", description="What a file holds.")
ImportStatus = strawberry.enum(_Status, name="ImportStatus")


@strawberry.type(
    description="A row an import rejected (or, with row null, a file it could not read), as "
    "a spreadsheet names it: the header is row 1."
)
class ImportRowError:
    row: int | None
    column: str | None = strawberry.field(description="The column's header, as in the file.")
    value: str | None
    message: str
    code: str
    file: str

    @classmethod
    def from_model(cls, row: ImportRowErrorModel) -> ImportRowError:
        return cls(
            row=row.row,
            column=row.column,
            value=row.value,
            message=row.message,
            code=row.code,
            file=row.file,
        )


@strawberry.type(description="A queued import and what became of its rows.")
class ImportJob(Node):
    model: strawberry.Private[ImportJobModel]
    kind: ImportKind  # type: ignore[valid-type]
    status: ImportStatus  # type: ignore[valid-type]
    dry_run: bool = strawberry.field(description="Checked and counted, nothing written.")
    processed: int
    inserted: int
    updated: int
    unchanged: int = strawberry.field(description="Rows equal to what is stored: not written.")
    skipped: int = strawberry.field(
        description="Rows skipped on purpose (a OneRoster teacher) or replaced by a later row "
        "with the same key."
    )
    failed: int
    created_students: int = strawberry.field(
        description="Students an attendance file named that the roster did not know."
    )
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_report_url: str = strawberry.field(
        description="Every error as CSV (GET with the same bearer token)."
    )

    @strawberry.field(description="The names of its files, in the order they are read.")
    async def files(self, info: Info) -> list[str]:
        model = self.model
        return await read(info, lambda s: service.files_of(s, org_id=model.org_id, job_id=model.id))

    @strawberry.field(description="Rejected rows and unreadable files, in the order found.")
    async def errors(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ImportRowError]:
        request = page_from(info, first, after, last, before)
        model = self.model
        page = await read(
            info,
            lambda s: service.errors_page(s, org_id=model.org_id, job_id=model.id, page=request),
        )
        return connection_from_page(page, ImportRowError.from_model)

    @classmethod
    def from_model(cls, row: ImportJobModel) -> ImportJob:
        return cls(
            model=row,
            id=to_global_id("ImportJob", row.id),
            kind=row.kind,
            status=row.status,
            dry_run=row.dry_run,
            processed=row.processed,
            inserted=row.inserted,
            updated=row.updated,
            unchanged=row.unchanged,
            skipped=row.skipped,
            failed=row.failed,
            created_students=row.created_students,
            created_by=row.created_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error_report_url=f"/imports/{to_global_id('ImportJob', row.id)}/errors.csv",
        )


async def load_job(info: Info, job_id: uuid.UUID) -> ImportJob | None:
    """The caller's org's job, or None (also for a role that may not see imports)."""
    actor = info.context.actor
    if actor.role not in STAFF:
        return None
    job = await read(info, lambda s: service.get(s, org_id=actor.org_id, job_id=job_id))
    return ImportJob.from_model(job) if job is not None else None


@strawberry.type(description="Import KPIs over the jobs started in a period (dry runs aside).")
class ImportStats:
    jobs: int
    succeeded: int
    partial: int
    failed: int
    rolled_back: int
    running: int = strawberry.field(description="Queued or running.")
    success_rate: float | None = strawberry.field(
        description="SUCCEEDED among the jobs that ended (null: none ended)."
    )
    rows_processed: int
    rows_failed: int
    rows_per_second: float | None = strawberry.field(
        description="Rows processed per second of the ended jobs' running time."
    )
    median_duration_seconds: float | None

    @classmethod
    def from_stats(cls, s: service.Stats) -> ImportStats:
        return cls(
            jobs=s.jobs,
            succeeded=s.succeeded,
            partial=s.partial,
            failed=s.failed,
            rolled_back=s.rolled_back,
            running=s.running,
            success_rate=s.success_rate,
            rows_processed=s.rows_processed,
            rows_failed=s.rows_failed,
            rows_per_second=s.rows_per_second,
            median_duration_seconds=s.median_seconds,
        )
