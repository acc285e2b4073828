"""Starting imports and following them: startImport (a GraphQL multipart request), the
job and its rejected rows. ADMIN and INTEGRATION import; TEACHER sees status; AIDE nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.file_uploads import Upload

from app.core import contracts as C
from app.core.errors import ErrorCode, FieldError, ServiceError
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.errors import UserError, user_errors
from app.graphql.imports.types import ImportJob, ImportKind, ImportStats, load_job
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import IMPORTERS, STAFF, allow, roles_note
from app.graphql.queries import read
from app.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection_from_page,
    page_from,
    parse_id,
)
from app.imports import flows, rollback, service

READ_CHUNK = 1 << 20


Instant = Annotated[datetime, limited_argument(C.Instant)]
From = Annotated[datetime, limited_argument(C.Instant, name="from")]


@strawberry.input(description="Files to import, all of one kind.")
class StartImportInput:
    kind: ImportKind  # type: ignore[valid-type]
    files: list[Upload] = strawberry.field(
        description="One or more files (i-Ready: the ELA and the Math export together), "
        "sent as the GraphQL multipart request spec says."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Check everything and count what would change; write nothing."
    )


@strawberry.type
class StartImportPayload:
    job: ImportJob | None
    errors: list[UserError]


async def _chunks(upload: Any) -> AsyncIterator[bytes]:
    while piece := await upload.read(READ_CHUNK):
        yield piece


@strawberry.type
class ImportQueries:
    @strawberry.field(
        permission_classes=[allow(*STAFF)],
        description="An import job (null when it is not in your organisation). "
        + roles_note(*STAFF),
    )
    async def import_job(
        self, info: Info, id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> ImportJob | None:
        return await load_job(info, parse_id(id, "ImportJob", "id"))

    @strawberry.field(
        permission_classes=[allow(*STAFF)],
        description="Import jobs, newest first. " + roles_note(*STAFF),
    )
    async def import_jobs(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ImportJob]:
        request = page_from(info, first, after, last, before)
        org_id = info.context.actor.org_id
        page = await read(info, lambda s: service.list_page(s, org_id=org_id, page=request))
        return connection_from_page(page, ImportJob.from_model)

    @strawberry.field(
        permission_classes=[allow(*STAFF)],
        description="Import KPIs (success rate, rows per second, median duration) over the "
        "jobs started from `from` to `to`. " + roles_note(*STAFF),
    )
    async def import_stats(self, info: Info, from_: From, to: Instant) -> ImportStats:
        org_id = info.context.actor.org_id
        found = await read(info, lambda s: service.stats(s, org_id=org_id, start=from_, end=to))
        return ImportStats.from_stats(found)


@strawberry.type
class RollbackImportPayload:
    job: ImportJob | None
    restored: int = strawberry.field(
        default=0, description="Rows given back the values it replaced."
    )
    deleted: int = strawberry.field(default=0, description="Rows it inserted, deleted.")
    voided: int = strawberry.field(default=0, description="Incidents it logged, voided.")
    students_kept: int = strawberry.field(
        default=0, description="Students it created that something else now refers to: kept."
    )
    errors: list[UserError]


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        permission_classes=[allow(*IMPORTERS)],
        description="Store the files and queue their import; follow it with importJob. Sent "
        "as a multipart request with a GraphQL-Require-Preflight header. " + roles_note(*IMPORTERS),
    )
    async def start_import(self, info: Info, input: StartImportInput) -> StartImportPayload:
        refused = [
            FieldError(
                f"files[{i}]",
                f"files[{i}] is not a file: send it as the GraphQL multipart request spec says",
                ErrorCode.INVALID,
            )
            for i, f in enumerate(input.files)
            if not callable(getattr(f, "read", None))
        ]
        if refused:
            return StartImportPayload(job=None, errors=user_errors(refused))
        uploads = [
            service.Upload(getattr(f, "filename", None) or f"file{i + 1}", _chunks(f))
            for i, f in enumerate(input.files)
        ]
        try:
            job = await flows.start(
                info.context.db,
                info.context.queue,
                actor=info.context.actor,
                kind=input.kind,
                uploads=uploads,
                dry_run=input.dry_run,
                settings=info.context.settings,
            )
        except ServiceError as exc:
            return StartImportPayload(job=None, errors=user_errors(exc.errors))
        return StartImportPayload(job=ImportJob.from_model(job), errors=[])

    @strawberry.mutation(
        permission_classes=[allow(*IMPORTERS)],
        description="Undo a finished import: its updates get back the values they replaced, "
        "what it inserted is deleted (incidents are voided), then risk is recomputed. "
        + roles_note(*IMPORTERS),
    )
    async def rollback_import(
        self, info: Info, id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> RollbackImportPayload:
        result = await in_transaction(
            info,
            lambda s, actor: rollback.rollback(
                s, actor=actor, job_id=parse_id(id, "ImportJob", "id")
            ),
        )
        if isinstance(result, Refused):
            return RollbackImportPayload(job=None, errors=result.errors)
        return RollbackImportPayload(
            job=ImportJob.from_model(result.job),
            restored=result.restored,
            deleted=result.deleted,
            voided=result.voided,
            students_kept=result.students_kept,
            errors=[],
        )
