"""search, searchIndex and reindexSearch."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.graphql.errors import UserError
from app.graphql.mutations import Refused, in_transaction
from app.graphql.permissions import ALL_ROLES, STAFF, allow, roles_note
from app.graphql.queries import read
from app.graphql.search.types import SearchFilter, SearchHit, SearchIndexStatus
from app.orgs.models import Role
from app.search import embeddings, service
from app.search.jobs import org_job_id

ADMINS = (Role.ADMIN,)


@strawberry.type
class SearchQueries:
    @strawberry.field(
        permission_classes=[allow(*ALL_ROLES)],
        description="What staff have written about students, found by meaning and by words "
        "(vector similarity and full text, fused by reciprocal rank), best first. Aides find "
        "incident notes only: never support notes or intervention notes. " + roles_note(*ALL_ROLES),
    )
    async def search(
        self,
        info: Info,
        query: Annotated[str, limited_argument(C.SearchQuery)],
        filter: SearchFilter | None = None,
        first: Annotated[int, limited_argument(C.SearchFirst)] = 10,
    ) -> list[SearchHit]:
        ctx = info.context
        hits = await service.search(
            ctx.db,
            embeddings.provider(ctx.settings),
            org_id=ctx.actor.org_id,
            staff=ctx.actor.role in STAFF,
            query=query,
            filter=filter.parsed() if filter is not None else service.SearchFilter(),
            first=first,
            ef_search=ctx.settings.search_ef_search,
        )
        return [SearchHit.of(h) for h in hits]

    @strawberry.field(
        permission_classes=[allow(*ADMINS)],
        description="The search index's model and how much is left to index. "
        + roles_note(*ADMINS),
    )
    async def search_index(self, info: Info) -> SearchIndexStatus:
        provider = embeddings.provider(info.context.settings)
        org_id = info.context.actor.org_id
        return SearchIndexStatus.of(
            await read(info, lambda s: service.status(s, provider, org_id=org_id))
        )


@strawberry.type
class ReindexSearchPayload:
    status: SearchIndexStatus | None
    errors: list[UserError]


@strawberry.type
class SearchMutations:
    @strawberry.mutation(
        permission_classes=[allow(*ADMINS)],
        description="Rebuild every search document of the organisation with the active "
        "model, on the worker. Search keeps answering from the old documents meanwhile; "
        "follow the progress with `searchIndex`. " + roles_note(*ADMINS),
    )
    async def reindex_search(self, info: Info) -> ReindexSearchPayload:
        ctx = info.context
        provider = embeddings.provider(ctx.settings)

        async def reindex(session: AsyncSession, actor: Principal) -> service.IndexStatus:
            await service.request_reindex(session, actor=actor)
            return await service.status(session, provider, org_id=actor.org_id)

        state = await in_transaction(info, reindex)
        if isinstance(state, Refused):
            return ReindexSearchPayload(status=None, errors=state.errors)
        org_id = ctx.actor.org_id
        if ctx.queue is not None:  # else (or if the queue is down) the sweep queues it
            await ctx.queue.enqueue("index_org", str(org_id), job_id=org_job_id(org_id))
        return ReindexSearchPayload(status=SearchIndexStatus.of(state), errors=[])
