"""Search's GraphQL types: a hit, what it points at, and the index's state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from app.core import contracts as C
from app.db import Database
from app.graphql.context import Info
from app.graphql.contracts import limited
from app.graphql.dataloaders import OrgLoader
from app.graphql.incidents.dataloaders import IncidentByIdLoader
from app.graphql.incidents.types import Incident
from app.graphql.interventions.dataloaders import InterventionByIdLoader
from app.graphql.interventions.types import Intervention
from app.graphql.relay import parse_id
from app.graphql.students.types import Student
from app.search import service
from app.search.embeddings import Provider
from app.search.models import SourceType

SearchSourceType = strawberry.enum(
    SourceType,
    name="SearchSourceType",
    description="What a document was written as. IMPORTED_COMMENT: an incident's note that "
    "came in through an import. Aides find only incident notes and imported comments.",
)

SearchSource = Annotated[
    Incident | Student | Intervention,
    strawberry.union(
        "SearchSource",
        description="What a hit was written in: an incident (its note), a student (their "
        "support notes) or an intervention (its notes).",
    ),
]


@strawberry.input(description="Narrows a search; every field given must hold.")
class SearchFilter:
    student_id: strawberry.ID | None = limited(C.GlobalId, default=None)
    class_code: str | None = limited(C.ClassCode, default=None)
    year_group: int | None = limited(C.YearGroup, default=None)
    source_types: list[SearchSourceType] | None = None  # type: ignore[valid-type]
    from_: date | None = limited(
        C.SchoolDate,
        default=None,
        name="from",
        description="Written on or after this day (the organisation's time zone).",
    )
    to: date | None = limited(
        C.SchoolDate, default=None, description="Written on or before this day."
    )

    def parsed(self) -> service.SearchFilter:
        return service.SearchFilter(
            student_id=parse_id(self.student_id, "Student", "filter.studentId")
            if self.student_id is not None
            else None,
            class_code=self.class_code,
            year_group=self.year_group,
            source_types=[SourceType(s) for s in self.source_types]
            if self.source_types is not None
            else None,
            from_date=self.from_,
            to_date=self.to,
        )


@strawberry.type(description="One document that answers a search.")
class SearchHit:
    hit: strawberry.Private[service.Hit]
    score: float = strawberry.field(
        description="Higher is better. search: the fused reciprocal-rank score (comparable "
        "within one answer); similar: cosine similarity, -1 to 1."
    )
    snippet: str = strawberry.field(
        description="The passage that matched, HTML-escaped, the query's words (and their "
        "taxonomy's) in <mark>…</mark>."
    )
    source_type: SearchSourceType  # type: ignore[valid-type]

    @classmethod
    def of(cls, hit: service.Hit) -> SearchHit:
        return cls(hit=hit, score=hit.score, snippet=hit.snippet, source_type=hit.source_type)

    @strawberry.field(description="The incident, student or intervention the text is in.")
    async def source(self, info: Info) -> SearchSource | None:
        loaders = info.context.loaders
        if self.hit.source_type == SourceType.SUPPORT_NOTES:
            return await Student.load(info, self.hit.source_id)
        if self.hit.source_type == SourceType.INTERVENTION_NOTES:
            row = await loaders.get(InterventionByIdLoader).load(self.hit.source_id)
            return Intervention.from_model(row) if row is not None else None
        row = await loaders.get(IncidentByIdLoader).load(self.hit.source_id)
        return Incident.from_model(row) if row is not None else None

    @strawberry.field(description="Who it is written about.")
    async def student(self, info: Info) -> Student | None:
        return await Student.load(info, self.hit.student_id)


class SimilarLoader(OrgLoader[uuid.UUID, list[service.Hit]]):
    """Similar incidents of many incidents (or students) in one statement (on the read
    pool: `params` are what to compare, how many, the provider and the HNSW ef_search)."""

    def __init__(self, db: Database, org_id: uuid.UUID, params: tuple[Any, ...]) -> None:
        super().__init__(db, org_id, params)
        self.of, self.first, self.provider, self.ef_search = params

    async def batch_load_fn(self, keys: Sequence[uuid.UUID]) -> list[list[service.Hit]]:
        provider: Provider = self.provider
        found = await service.similar(
            self.db,
            provider,
            org_id=self.org_id,
            of=self.of,
            ids=list(keys),
            first=self.first,
            ef_search=self.ef_search,
        )
        return [found.get(k, []) for k in keys]


@strawberry.type(description="How far the search index is: its model, and what is left.")
class SearchIndexStatus:
    model: str = strawberry.field(description="The active embedding model (and recipe).")
    dimension: int
    sources: int = strawberry.field(description="Notes, support notes, intervention notes.")
    indexed: int = strawberry.field(description="Of them, searchable with the active model.")
    pending: int = strawberry.field(description="Waiting for the worker.")
    reindex_requested_at: datetime | None

    @classmethod
    def of(cls, s: service.IndexStatus) -> SearchIndexStatus:
        return cls(
            model=s.model,
            dimension=s.dimension,
            sources=s.sources,
            indexed=s.indexed,
            pending=s.pending,
            reindex_requested_at=s.reindex_requested_at,
        )
