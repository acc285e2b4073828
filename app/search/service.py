"""Search's rules: keeping documents fresh (the indexer) and answering queries (hybrid
vector + full-text, fused by reciprocal rank in one statement, scoped by org and role).

The indexer runs on the worker (app.search.jobs) and in `schoolgraph reindex`; the API
process only embeds queries."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.principal import Principal
from app.core.errors import ErrorCode, ServiceError
from app.db import Database
from app.search import recipe, sources
from app.search.embeddings import Provider, QueryCache
from app.search.models import AIDE_SOURCES, INCIDENT_SOURCES, Reindex, SourceType

log = logging.getLogger(__name__)

BATCH = 256  # sources embedded and written per transaction
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)
MAX_FIRST = 50
# Full text ranks the documents matching all the query's words (the newest this many), and
# of those matching only some of them (or its concept's), the this-many nearest by meaning:
# a common word in a big school matches tens of thousands of notes, and ranking them all
# costs a second; far from the query in meaning, a shared word is mostly noise anyway.
TEXT_CANDIDATES = 500


# -- the active model ---------------------------------------------------------------------


class Taxonomy:
    """The taxonomy's concept vectors under one provider (computed once per process)."""

    def __init__(self) -> None:
        self._vectors: dict[str, list[list[float]]] = {}

    async def vectors(self, provider: Provider) -> list[list[float]]:
        found = self._vectors.get(provider.model)
        if found is None:
            found = self._vectors[provider.model] = await provider.embed(recipe.concept_texts())
        return found


TAXONOMY = Taxonomy()


def model_name(provider: Provider) -> str:
    """What documents store as their model: the provider's model and the recipe of what it
    embeds (a change to either makes every document stale)."""
    return f"{provider.model}/{recipe.RECIPE}"


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def vector_index_name(model: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:40]
    return f"ix_documents_embedding_{slug}_{uuid.uuid5(uuid.NAMESPACE_URL, model).hex[:8]}"


def vector_index_sql(model: str, dim: int) -> str:
    """The HNSW index of one model's rows: a partial expression index, as the column holds
    vectors of every dimension (search's statements repeat its expression and predicate)."""
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {vector_index_name(model)} ON documents"
        f" USING hnsw ((embedding::vector({dim})) vector_cosine_ops)"
        f" WHERE model = {quoted(model)}"
    )


_ensured: set[str] = set()


async def ensure_vector_index(db: Database, provider: Provider) -> None:
    """Create the active model's HNSW index if it is missing (once per process). Built
    CONCURRENTLY: writes go on while it builds. A failed build leaves an invalid index,
    dropped and built again on the next try."""
    model = model_name(provider)
    if model in _ensured:
        return
    dim = await provider.dimension()
    name = vector_index_name(model)
    async with db.engine.connect() as connection:
        auto = await connection.execution_options(isolation_level="AUTOCOMMIT")
        invalid = await auto.exec_driver_sql(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            f" WHERE c.relname = {quoted(name)} AND NOT i.indisvalid"
        )
        if invalid.first() is not None:
            await auto.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        await auto.exec_driver_sql(vector_index_sql(model, dim))
    _ensured.add(model)


# -- indexing -----------------------------------------------------------------------------


@dataclass
class Indexed:
    embedded: int = 0
    deleted: int = 0


_UPSERT = text(
    """
INSERT INTO documents (id, org_id, student_id, source_type, source_id, incident_id,
                       intervention_id, label, content, terms, concepts, content_hash,
                       written_at, embedding, model, dim, indexed_at)
SELECT gen_random_uuid(), :org_id, u.student_id, u.source_type, u.source_id, u.incident_id,
       u.intervention_id, u.label, u.content, u.terms,
       CAST(u.concepts AS smallint[]), u.content_hash, u.written_at,
       CAST(u.embedding AS vector), :model, :dim, now()
  FROM unnest(CAST(:student_ids AS uuid[]), CAST(:source_types AS text[]),
              CAST(:source_ids AS uuid[]), CAST(:incident_ids AS uuid[]),
              CAST(:intervention_ids AS uuid[]), CAST(:labels AS text[]),
              CAST(:contents AS text[]), CAST(:terms AS text[]), CAST(:concepts AS text[]),
              CAST(:hashes AS text[]),
              CAST(:written AS timestamptz[]), CAST(:embeddings AS text[]))
       AS u(student_id, source_type, source_id, incident_id, intervention_id, label,
            content, terms, concepts, content_hash, written_at, embedding)
ON CONFLICT (org_id, source_type, source_id) DO UPDATE SET
    student_id = excluded.student_id, incident_id = excluded.incident_id,
    intervention_id = excluded.intervention_id, label = excluded.label,
    content = excluded.content, terms = excluded.terms, concepts = excluded.concepts,
    content_hash = excluded.content_hash, written_at = excluded.written_at,
    embedding = excluded.embedding, model = excluded.model, dim = excluded.dim,
    indexed_at = now()
"""
)


def _vector_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


@dataclass(frozen=True)
class Built:
    """What the indexer writes of one source besides its text."""

    vector: list[float]
    concepts: list[int]  # the taxonomy's concepts it carries (recipe.TAXONOMY indexes)

    @property
    def terms(self) -> str:
        return recipe.terms(self.concepts)


async def build(provider: Provider, rows: Sequence[Any]) -> list[Built]:
    """The vectors of some sources (label, content), moved towards their concepts."""
    vectors = await provider.embed([recipe.embedded_text(r.label, r.content) for r in rows])
    concepts = await TAXONOMY.vectors(provider)
    return [
        Built(vector, found)
        for vector, found in recipe.conceptualise(
            vectors, concepts, recipe.DOCUMENT_THRESHOLD, recipe.DOCUMENT_CONCEPTS
        )
    ]


async def _write(
    session: AsyncSession,
    org_id: uuid.UUID,
    model: str,
    rows: Sequence[Any],
    built: Sequence[Built],
) -> None:
    await session.execute(
        _UPSERT,
        {
            "org_id": org_id,
            "model": model,
            "dim": len(built[0].vector),
            "student_ids": [r.student_id for r in rows],
            "source_types": [r.source_type for r in rows],
            "source_ids": [r.source_id for r in rows],
            "incident_ids": [r.incident_id for r in rows],
            "intervention_ids": [r.intervention_id for r in rows],
            "labels": [r.label for r in rows],
            "contents": [r.content for r in rows],
            "terms": [b.terms for b in built],
            "concepts": ["{" + ",".join(map(str, b.concepts)) + "}" for b in built],
            "hashes": [r.content_hash for r in rows],
            "written": [r.written_at for r in rows],
            "embeddings": [_vector_text(b.vector) for b in built],
        },
    )


async def index_pending(
    db: Database,
    provider: Provider,
    org_id: uuid.UUID,
    *,
    student_ids: Sequence[uuid.UUID] | None = None,
    batch: int = BATCH,
    progress: Any = None,
) -> Indexed:
    """Embed and write every source of `org_id` (of `student_ids`, when given) whose
    document is missing or stale, `batch` at a time, each batch its own transaction (the
    embedding happens outside any); then delete documents whose source is gone.

    Safe to run twice at once: both write the same documents. A source edited while its
    batch embeds is written with the old text's hash, so it is stale again and the next run
    (or the sweep) does it again; this run stops rather than chase it."""
    model = model_name(provider)
    where = "src.org_id = :org_id"
    params: dict[str, Any] = {"org_id": org_id, "model": model, "limit": batch}
    if student_ids is not None:
        where += " AND src.student_id = ANY(:student_ids)"
        params["student_ids"] = list(student_ids)
    pending = text(sources.PENDING.format(where=where))
    done: set[tuple[str, uuid.UUID]] = set()
    result = Indexed()
    while True:
        async with db.transaction(org_id) as session:
            rows = [
                r
                for r in (await session.execute(pending, params)).all()
                if (r.source_type, r.source_id) not in done
            ]
        if not rows:
            break
        built = await build(provider, rows)
        async with db.transaction(org_id) as session:
            await _write(session, org_id, model, rows, built)
        done.update((r.source_type, r.source_id) for r in rows)
        result.embedded += len(rows)
        if progress is not None:
            progress(len(rows))
    orphans_where = "d.org_id = :org_id"
    if student_ids is not None:
        orphans_where += " AND d.student_id = ANY(:student_ids)"
    async with db.transaction(org_id) as session:
        deleted = await session.execute(
            text(sources.ORPHANS.format(where=orphans_where)),
            {k: v for k, v in params.items() if k in ("org_id", "student_ids")},
        )
        result.deleted = getattr(deleted, "rowcount", 0) or 0
    return result


async def orgs_pending(db: Database, provider: Provider) -> list[uuid.UUID]:
    """Orgs with a source not (or not freshly) indexed, or a document whose source is gone."""
    params = {"model": model_name(provider)}
    async with db.admin_transaction() as session:
        stale = (await session.execute(text(sources.ORGS_PENDING), params)).scalars().all()
        orphaned = (await session.execute(text(sources.ORGS_WITH_ORPHANS))).scalars().all()
    return sorted(set(stale) | set(orphaned))


async def request_reindex(session: AsyncSession, *, actor: Principal) -> None:
    """Ask for every document of the org to be built again (the indexer treats each one
    built before now as stale; search keeps answering from them meanwhile). Audited."""
    now = (await session.execute(text("SELECT now()"))).scalar_one()
    row = await session.get(Reindex, actor.org_id)
    before = None if row is None else audit.snapshot(row)
    if row is None:
        row = Reindex(org_id=actor.org_id, requested_at=now, requested_by=actor.sub)
        session.add(row)
    else:
        row.requested_at, row.requested_by = now, actor.sub
    await audit.record(session, actor=actor, action="search.reindex", entity=row, before=before)


@dataclass(frozen=True)
class IndexStatus:
    model: str
    dimension: int
    sources: int  # source rows with text
    indexed: int  # of them, with a fresh document of the active model
    reindex_requested_at: datetime | None

    @property
    def pending(self) -> int:
        return self.sources - self.indexed


async def status(session: AsyncSession, provider: Provider, *, org_id: uuid.UUID) -> IndexStatus:
    model = model_name(provider)
    row = (await session.execute(text(sources.STATUS), {"org_id": org_id, "model": model})).one()
    return IndexStatus(
        model=model,
        dimension=await provider.dimension(),
        sources=row.sources,
        indexed=row.indexed,
        reindex_requested_at=row.requested_at,
    )


# -- searching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilter:
    student_id: uuid.UUID | None = None
    class_code: str | None = None
    year_group: int | None = None
    source_types: Sequence[SourceType] | None = None
    from_date: date | None = None
    to_date: date | None = None


@dataclass(frozen=True)
class Hit:
    source_type: SourceType
    source_id: uuid.UUID
    student_id: uuid.UUID
    score: float
    snippet: str


QUERIES = QueryCache()
MAX_QUERY_LENGTH = 500


def visible_sources(staff: bool, asked: Sequence[SourceType] | None) -> list[str]:
    """The source types a caller may find: aides never see support or intervention notes."""
    allowed = list(SourceType) if staff else list(AIDE_SOURCES)
    return [s.value for s in allowed if asked is None or s in asked]


# A filter on the document's student, as a subquery: a join would keep the planner from
# reading the documents in vector-index order.
_STUDENT = "EXISTS (SELECT 1 FROM students s WHERE s.id = d.student_id AND s.{} = {})"


class _Statement:
    """Positional parameters for the read path's raw SQL."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _filters(p: _Statement, org_id: uuid.UUID, f: SearchFilter, types: list[str]) -> str:
    clauses = [f"d.org_id = {p(org_id)}", f"d.source_type = ANY({p(types)}::text[])"]
    if f.student_id is not None:
        clauses.append(f"d.student_id = {p(f.student_id)}")
    if f.class_code is not None:
        clauses.append(_STUDENT.format("class_code", p(f.class_code)))
    if f.year_group is not None:
        clauses.append(_STUDENT.format("year_group", p(f.year_group)))
    zone = "(SELECT coalesce(o.settings->>'timezone', 'UTC') FROM orgs o WHERE o.id = d.org_id)"
    if f.from_date is not None:
        clauses.append(f"d.written_at >= ({p(f.from_date)}::date::timestamp AT TIME ZONE {zone})")
    if f.to_date is not None:
        clauses.append(
            f"d.written_at < (({p(f.to_date)}::date + 1)::timestamp AT TIME ZONE {zone})"
        )
    return " AND ".join(clauses)


def _escaped(expression: str) -> str:
    """`expression`'s text, HTML-escaped (snippets may be rendered as HTML)."""
    return f"replace(replace(replace({expression}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


_ESCAPED = _escaped("d.content")
_HEADLINE = (
    "'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2,"
    ' FragmentDelimiter=" … "\''
)


def _or_query(words: Sequence[str]) -> str:
    """A to_tsquery text matching any of `words` (letters only: nothing of tsquery syntax)."""
    tokens = (t for w in words for t in w.split("-") if t)
    return " | ".join(dict.fromkeys(tokens))


async def search(
    db: Database,
    provider: Provider,
    *,
    org_id: uuid.UUID,
    staff: bool,
    query: str,
    filter: SearchFilter,
    first: int,
    ef_search: int = 200,
    mode: str = "hybrid",
) -> list[Hit]:
    """The `first` best documents for `query`: the nearest by meaning (HNSW, the org's rows
    of the active model, filtered inside the scan by pgvector's iterative scan) and the best
    full-text matches (the query's words and its taxonomy concepts' words, documents matching
    the whole `websearch_to_tsquery` first), fused by reciprocal rank. `mode` ("vector",
    "text") keeps one of the two lists: for evaluation."""
    query = query.strip()
    if not query:
        raise ServiceError.single("query", "give some words to search for", ErrorCode.REQUIRED)
    if len(query) > MAX_QUERY_LENGTH:
        raise ServiceError.single(
            "query", f"at most {MAX_QUERY_LENGTH} characters", ErrorCode.TOO_LONG
        )
    if not 1 <= first <= MAX_FIRST:
        raise ServiceError.single("first", f"between 1 and {MAX_FIRST}", ErrorCode.OUT_OF_RANGE)
    types = visible_sources(staff, filter.source_types)
    if not types:
        return []
    vector = await QUERIES.vector(provider, query)
    [(vector, concepts)] = recipe.conceptualise(
        [vector], await TAXONOMY.vectors(provider), recipe.QUERY_THRESHOLD, recipe.QUERY_CONCEPTS
    )
    loose = _or_query(recipe.words(query) + recipe.words(recipe.terms(concepts)))
    model = model_name(provider)
    dim = len(vector)
    candidates = max(first * 4, 40)
    p = _Statement()
    q_vector, q_strict, q_loose = p(_vector_text(vector)), p(query), p(loose)
    where = _filters(p, org_id, filter, types)
    k, limit = p(candidates), p(first)
    distance = f"(d.embedding::vector({dim})) <=> CAST({q_vector}::text AS vector({dim}))"
    scope = f"d.model = {quoted(model)} AND {where}"
    use_vector = mode in ("hybrid", "vector")
    use_text = mode in ("hybrid", "text")
    # Documents matching the whole query first, then by how much of the query (and its
    # concepts) they match. Equal matches share a rank (many notes of one concept match
    # alike), and which of them make the cut is decided by meaning.
    text_rank = "d.tsv @@ q.strict DESC, ts_rank_cd(d.tsv, q.loose) DESC"
    text_order = f"{text_rank}, " + (f"{distance}, d.id" if use_vector else "d.content, d.id")
    sql = f"""
WITH q AS MATERIALIZED (
    SELECT websearch_to_tsquery('english', {q_strict}) AS strict,
           to_tsquery('english', {q_loose}) AS loose
),
near AS MATERIALIZED (
    SELECT d.id, {distance} AS distance, d.tsv @@ (SELECT loose FROM q) AS loose
      FROM documents d
     WHERE {scope}
     ORDER BY {distance}
     LIMIT {TEXT_CANDIDATES}
),
vec AS (
    SELECT id, distance FROM near WHERE {"TRUE" if use_vector else "FALSE"}
     ORDER BY distance, id LIMIT {k}
),
vec_ranked AS (
    SELECT id, row_number() OVER (ORDER BY distance, id) AS r FROM vec
),
matched AS MATERIALIZED (
    (SELECT d.id FROM documents d, q
      WHERE {scope} AND {"TRUE" if use_text else "FALSE"} AND d.tsv @@ q.strict
      ORDER BY d.written_at DESC, d.id LIMIT {TEXT_CANDIDATES})
    UNION
    SELECT id FROM near WHERE {"TRUE" if use_text else "FALSE"} AND loose
),
fts AS (
    SELECT d.id, rank() OVER (ORDER BY {text_rank}) AS r
      FROM matched m JOIN documents d ON d.id = m.id, q
     ORDER BY {text_order}
     LIMIT {k}
),
fused AS (
    SELECT coalesce(v.id, f.id) AS id,
           coalesce(1.0 / ({RRF_K} + v.r), 0) + coalesce(1.0 / ({RRF_K} + f.r), 0) AS score
      FROM vec_ranked v FULL JOIN fts f ON f.id = v.id
     ORDER BY score DESC, id
     LIMIT {limit}
)
SELECT d.source_type, d.source_id, d.student_id, fused.score::float8 AS score,
       ts_headline('english', {_ESCAPED},
                   (SELECT strict || loose FROM q), {_HEADLINE}) AS snippet
  FROM fused JOIN documents d ON d.id = fused.id
 ORDER BY fused.score DESC, d.id
"""
    settings = (
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
        f" set_config('hnsw.ef_search', '{int(ef_search)}', true)"
    )
    _, rows = await db.read(org_id, [(settings, []), (sql, p.values)])
    return [
        Hit(SourceType(r["source_type"]), r["source_id"], r["student_id"], r["score"], r["snippet"])
        for r in rows
    ]


async def similar(
    db: Database,
    provider: Provider,
    *,
    org_id: uuid.UUID,
    of: str,
    ids: Sequence[uuid.UUID],
    first: int,
    ef_search: int = 200,
) -> dict[uuid.UUID, list[Hit]]:
    """For each id, the `first` incident documents nearest to it: `of="incident"`, to that
    incident's note (itself left out); `of="student"`, to the mean of that student's
    incident notes (the student's own incidents left out). One statement for all ids."""
    if not 1 <= first <= MAX_FIRST:
        raise ServiceError.single("first", f"between 1 and {MAX_FIRST}", ErrorCode.OUT_OF_RANGE)
    model = model_name(provider)
    dim = await provider.dimension()
    incident_types = "ARRAY[" + ", ".join(quoted(s.value) for s in INCIDENT_SOURCES) + "]"
    if of == "incident":
        anchor = (
            f"SELECT k.id AS key, me.embedding::vector({dim}) AS v, me.student_id"
            " FROM unnest($1::uuid[]) k(id) JOIN documents me ON me.incident_id = k.id"
            f" AND me.model = {quoted(model)} AND me.org_id = $2"
        )
        exclude = "d.incident_id <> a.key"
    else:
        anchor = (
            f"SELECT k.id AS key, avg(me.embedding::vector({dim})) AS v, k.id AS student_id"
            " FROM unnest($1::uuid[]) k(id) JOIN documents me ON me.student_id = k.id"
            f" AND me.model = {quoted(model)} AND me.org_id = $2"
            f" AND me.source_type = ANY({incident_types}) GROUP BY k.id"
        )
        exclude = "d.student_id <> a.key"
    sql = f"""
WITH a AS MATERIALIZED ({anchor})
SELECT a.key, h.source_type, h.source_id, h.student_id, h.score, h.snippet
  FROM a CROSS JOIN LATERAL (
      SELECT d.source_type, d.source_id, d.student_id,
             (1 - ((d.embedding::vector({dim})) <=> a.v))::float8 AS score,
             {_escaped("left(d.content, 200)")} AS snippet
        FROM documents d
       WHERE d.model = {quoted(model)} AND d.org_id = $2
         AND d.source_type = ANY({incident_types}) AND {exclude}
       ORDER BY (d.embedding::vector({dim})) <=> a.v
       LIMIT $3) h
 ORDER BY a.key, h.score DESC
"""
    settings = (
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),"
        f" set_config('hnsw.ef_search', '{int(ef_search)}', true)"
    )
    _, rows = await db.read(org_id, [(settings, []), (sql, [list(ids), org_id, first])])
    found: dict[uuid.UUID, list[Hit]] = {i: [] for i in ids}
    for r in rows:
        found[r["key"]].append(
            Hit(
                SourceType(r["source_type"]),
                r["source_id"],
                r["student_id"],
                r["score"],
                r["snippet"],
            )
        )
    return found
