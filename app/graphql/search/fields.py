"""`similar` on an incident and `similarIncidents` on a student: the search index's nearest
incident notes (the "pattern analysis" of a student's record), batched across a page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.core import contracts as C
from app.graphql.context import Info
from app.graphql.contracts import limited_argument
from app.search import embeddings

if TYPE_CHECKING:
    from app.graphql.search.types import SearchHit


async def _similar(info: Info, of: str, key: Any, first: int) -> list[SearchHit]:
    from app.graphql.search.types import SearchHit, SimilarLoader

    settings = info.context.settings
    loader = info.context.loaders.get(
        SimilarLoader, of, first, embeddings.provider(settings), settings.search_ef_search
    )
    return [SearchHit.of(h) for h in await loader.load(key)]


async def resolve_similar(
    root: Any, info: Info, first: Annotated[int, limited_argument(C.SearchFirst)] = 5
) -> list[Annotated[SearchHit, strawberry.lazy("app.graphql.search.types")]]:
    """Incidents whose notes read most like this one's (of any student, itself left out)."""
    return await _similar(info, "incident", root.model.id, first)


async def resolve_similar_incidents(
    root: Any, info: Info, first: Annotated[int, limited_argument(C.SearchFirst)] = 5
) -> list[Annotated[SearchHit, strawberry.lazy("app.graphql.search.types")]]:
    """Other students' incidents that read most like this student's incident notes (their
    mean): the patterns this student's record shares with others'."""
    return await _similar(info, "student", root.model.id, first)
