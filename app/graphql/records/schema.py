"""A student's record: its export (FERPA access request) and its erasure (ADMIN); the
generated files the caller asked for."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import ALL_ROLES, allow, roles_note
from app.graphql.queries import read
from app.graphql.records.types import Erasure, GeneratedFile
from app.graphql.relay import from_global_id, parse_id
from app.orgs.models import Role
from app.records import erasure, files
from app.records.jobs import BUILDERS, file_job_id
from app.records.models import Erasure as ErasureModel
from app.records.models import FileKind
from app.records.models import GeneratedFile as GeneratedFileModel
from app.students import service as students

_ADMIN = [allow(Role.ADMIN)]
StudentId = Annotated[strawberry.ID, limited_argument(C.GlobalId)]


@strawberry.type
class GeneratedFilePayload:
    file: GeneratedFile | None
    errors: list[UserError]


@strawberry.type
class EraseStudentPayload:
    erasure: Erasure | None
    errors: list[UserError]


async def queue_file(info: Info, row: GeneratedFileModel) -> None:
    """After commit: the file's job (else, or with the queue down, the worker's sweep)."""
    if info.context.queue is not None:
        await info.context.queue.enqueue(
            BUILDERS[row.kind], str(row.org_id), str(row.id), job_id=file_job_id(row.id)
        )


@strawberry.type
class RecordQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="A generated file you asked for (an ADMIN: anyone's in the school); "
        "null otherwise. " + roles_note(*ALL_ROLES),
    )
    async def generated_file(
        self, info: Info, id: Annotated[strawberry.ID, limited_argument(C.GlobalId)]
    ) -> GeneratedFile | None:
        parsed = from_global_id(id)
        if parsed is None or parsed[0] != "GeneratedFile":
            return None
        actor = info.context.actor
        row = await read(
            info,
            lambda s: s.scalar(
                select(GeneratedFileModel).where(
                    GeneratedFileModel.org_id == actor.org_id, GeneratedFileModel.id == parsed[1]
                )
            ),
        )
        if row is None or not files.may_download(actor, row):
            return None
        return GeneratedFile.from_model(row)

    @strawberry.field(
        permission_classes=_ADMIN,
        description="Erasure tombstones, newest first. Roles: ADMIN.",
    )
    async def erasures(
        self, info: Info, first: Annotated[int, limited_argument(C.PageSize)] = 50
    ) -> list[Erasure]:
        limit = min(first, info.context.settings.max_page_size)
        rows = await read(
            info,
            lambda s: s.scalars(
                select(ErasureModel)
                .where(ErasureModel.org_id == info.context.actor.org_id)
                .order_by(ErasureModel.erased_at.desc(), ErasureModel.id)
                .limit(limit)
            ),
        )
        return [Erasure.from_model(r) for r in rows]


@strawberry.type
class RecordMutations:
    @strawberry.mutation(
        permission_classes=_ADMIN,
        description="Everything held about one student (a FERPA access request), made by a "
        "job: a ZIP of JSON, one file per table, and summary.html. Poll generatedFile (or "
        "the returned file) until READY, then GET its downloadUrl with your token before "
        "it expires (FILE_TTL_HOURS). Audited. Roles: ADMIN.",
    )
    async def export_student_record(
        self, info: Info, student_id: StudentId
    ) -> GeneratedFilePayload:
        async def work(s: AsyncSession, actor: Principal) -> GeneratedFileModel:
            sid = parse_id(student_id, "Student", "studentId")
            await students.require(s, org_id=actor.org_id, student_id=sid)
            return await files.request(
                s, actor=actor, kind=FileKind.STUDENT_RECORD, student_id=sid, params={}
            )

        result = await in_transaction(info, work)
        if isinstance(result, Refused):
            return GeneratedFilePayload(file=None, errors=result.errors)
        await queue_file(info, result)
        return GeneratedFilePayload(file=GeneratedFile.from_model(result), errors=[])

    @strawberry.mutation(
        permission_classes=_ADMIN,
        description="Erase a student and everything derived from them - every row in every "
        "table, events, webhook deliveries (sent or not), search documents and embeddings, "
        "raw import files that carried them, generated files - in one transaction; the "
        "files on disk are removed by a job that then verifies none is left. Leaves a "
        "tombstone (who, when, why, counts) without personal data. Cannot be undone. "
        "Roles: ADMIN.",
    )
    async def erase_student(
        self,
        info: Info,
        student_id: StudentId,
        reason: Annotated[str, limited_argument(C.Reason, description="Why (audited).")],
    ) -> EraseStudentPayload:
        result = await in_transaction(
            info,
            lambda s, actor: erasure.erase(
                s,
                actor=actor,
                student_id=parse_id(student_id, "Student", "studentId"),
                reason=reason,
            ),
        )
        if isinstance(result, Refused):
            return EraseStudentPayload(erasure=None, errors=result.errors)
        if info.context.queue is not None:
            await info.context.queue.enqueue(
                "finish_erasure", str(result.org_id), str(result.id), job_id=f"erasure:{result.id}"
            )
        return EraseStudentPayload(erasure=Erasure.from_model(result), errors=[])
