"""Search (`python -m bench.search`, and part of `make bench`): prints JSON.

100,000 generated incident notes (fragments of realistic staff notes, recombined) in one
school of 2,000 students, beside a small school of 500 notes in the same database:

- embedding throughput of the active provider (documents/s, batches of 256, one process),
  and of the whole indexer (`index_pending`: read, embed, write) on 5,000 notes;
- the HNSW index build time (CREATE INDEX on the 100,000 rows);
- search latency p50/p99 (`service.search`, hybrid, in-process, distinct staff queries),
  beside the raw floor measured in the same run: the bare KNN statement over asyncpg;
- recall@10 of the HNSW path against an exact scan (the same vector statement with index
  scans off), for the big school and for the small one (the org filter inside the scan).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector

from app.config import Settings
from app.search import embeddings, service
from bench.demo import Demo, demo_school

DOCUMENTS = int(os.environ.get("SEARCH_DOCUMENTS", "100000"))
STUDENTS = 2000
SMALL = 500
PIPELINE = 5000
QUERIES = (
    "hurting other children",
    "worried about exams",
    "skipping school",
    "rude to staff",
    "phone out in lessons",
    "damaged equipment",
    "stealing from bags",
    "feeling low",
    "helped a classmate",
    "needs reading support",
    "struggles with fractions",
    "sensory overload",
    "comes in hungry",
    "refused to follow instructions",
    "late every morning",
    "fighting at lunch",
    "excellent effort",
    "online bullying",
    "left the lesson without permission",
    "talking over the teacher",
)
SUBJECTS = ("maths", "English", "science", "PE", "art", "history", "French", "music")
OPENINGS = (
    "Threw a chair at",
    "Pushed",
    "Swore at",
    "Shouted at",
    "Ignored",
    "Helped",
    "Laughed at",
    "Refused to work with",
    "Took a pencil case from",
    "Kicked",
    "Supported",
    "Argued with",
    "Was in tears after a fall-out with",
    "Walked out on",
    "Spat at",
    "Praised by",
)
TARGETS = (
    "a classmate",
    "the cover teacher",
    "Mr Evans",
    "a Year 7 pupil",
    "the TA",
    "her best friend",
    "the lunch staff",
    "a new student",
    "his group",
    "the whole class",
)
ENDINGS = (
    "during {s}.",
    "in the corridor after {s}.",
    "at break.",
    "in the lunch queue.",
    "while the class was working in silence.",
    "and then left the room.",
    "- parents contacted.",
    "; spoke to him afterwards.",
    "for the third time this week.",
    "and apologised later.",
    "on the field at lunch.",
    "in the changing rooms before {s}.",
)
CATEGORIES = (
    "Disruption",
    "Physical aggression",
    "Verbal abuse",
    "Defiance",
    "Kindness",
    "Effort",
    "Bullying",
    "Truancy",
    "Mobile phone",
    "Damage to property",
    "Wellbeing concern",
)


def note(rng: random.Random) -> tuple[str, str]:
    text = f"{rng.choice(OPENINGS)} {rng.choice(TARGETS)} " + rng.choice(ENDINGS).format(
        s=rng.choice(SUBJECTS)
    )
    return rng.choice(CATEGORIES), text


@dataclass
class Row:
    label: str
    content: str


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


async def _school(conn: asyncpg.Connection, slug: str, students: int) -> tuple[uuid.UUID, list]:
    org_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO orgs (id, slug, name, settings) VALUES ($1, $2, $2, '{}')", org_id, slug
    )
    ids = [uuid.uuid4() for _ in range(students)]
    await conn.copy_records_to_table(
        "students",
        records=[
            (i, org_id, f"S{n:06d}", f"Pupil {n}", f"{7 + n % 5}A", 7 + n % 5, 0, 1, 0, "[]", 0)
            for n, i in enumerate(ids)
        ],
        columns=[
            "id",
            "org_id",
            "external_id",
            "name",
            "class_code",
            "year_group",
            "support_level",
            "risk_tier",
            "risk_score",
            "risk_factors",
            "house_points",
        ],
    )
    return org_id, ids


async def _notes(
    conn: asyncpg.Connection, org_id: uuid.UUID, students: list, count: int, seed: int
) -> list[tuple[uuid.UUID, uuid.UUID, str, str, datetime]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        category, text = note(rng)
        rows.append(
            (uuid.uuid4(), rng.choice(students), category, text, now - timedelta(minutes=n))
        )
    await conn.copy_records_to_table(
        "incidents",
        records=[
            (i, org_id, s, "NEGATIVE", c, 0, t, at, "console", False, False, False)
            for i, s, c, t, at in rows
        ],
        columns=[
            "id",
            "org_id",
            "student_id",
            "kind",
            "category",
            "points",
            "note",
            "occurred_at",
            "source",
            "admin_notified",
            "hod_consulted",
            "parent_meeting_scheduled",
        ],
    )
    return rows


async def _documents(
    conn: asyncpg.Connection, provider: Any, org_id: uuid.UUID, rows: list
) -> float:
    """Embed the notes as the indexer does and COPY them in; the embedding seconds."""
    model = service.model_name(provider)
    embed_seconds = 0.0
    for start in range(0, len(rows), 256):
        part = rows[start : start + 256]
        began = time.perf_counter()
        built = await service.build(provider, [Row(r[2], r[3]) for r in part])
        embed_seconds += time.perf_counter() - began
        await conn.copy_records_to_table(
            "documents",
            records=[
                (
                    uuid.uuid4(),
                    org_id,
                    s,
                    "INCIDENT_NOTE",
                    i,
                    i,
                    c,
                    t,
                    b.terms,
                    b.concepts,
                    hashlib.md5(f"{c}\x1f{t}".encode()).hexdigest(),
                    at,
                    np.asarray(b.vector, dtype=np.float32),
                    model,
                    len(b.vector),
                )
                for (i, s, c, t, at), b in zip(part, built, strict=True)
            ],
            columns=[
                "id",
                "org_id",
                "student_id",
                "source_type",
                "source_id",
                "incident_id",
                "label",
                "content",
                "terms",
                "concepts",
                "content_hash",
                "written_at",
                "embedding",
                "model",
                "dim",
            ],
        )
    return embed_seconds


async def run(demo: Demo) -> dict[str, Any]:
    settings = Settings(database_url=None, redis_url=None)
    provider = embeddings.provider(settings)
    model = service.model_name(provider)
    dim = await provider.dimension()
    conn = await asyncpg.connect(demo.dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await register_vector(conn)
        big, big_students = await _school(conn, "bench-search-big", STUDENTS)
        small, small_students = await _school(conn, "bench-search-small", 50)
        big_rows = await _notes(conn, big, big_students, DOCUMENTS, 1)
        small_rows = await _notes(conn, small, small_students, SMALL, 2)
        index = service.vector_index_name(model)
        await conn.execute(f"DROP INDEX IF EXISTS {index}")
        embed_seconds = await _documents(conn, provider, big, big_rows)
        await _documents(conn, provider, small, small_rows)
        began = time.perf_counter()
        await conn.execute(service.vector_index_sql(model, dim).replace(" CONCURRENTLY", ""))
        build_seconds = time.perf_counter() - began
        await conn.execute("ANALYZE documents")

        # The whole indexer on a school of its own: read, embed, write, in batches.
        pipe, pipe_students = await _school(conn, "bench-search-pipeline", 200)
        await _notes(conn, pipe, pipe_students, PIPELINE, 3)
        began = time.perf_counter()
        done = await service.index_pending(demo.db, provider, pipe)
        pipeline_seconds = time.perf_counter() - began
        assert done.embedded == PIPELINE, done

        latencies: dict[str, list[float]] = {"search": [], "raw_knn": []}
        recall: dict[str, list[float]] = {"big": [], "small": []}
        knn = (
            f"SELECT id FROM documents WHERE model = '{model}' AND org_id = $2"
            f" ORDER BY (embedding::vector({dim})) <=> $1::text::vector({dim}) LIMIT 10"
        )
        for round_ in range(5):
            for q in QUERIES:
                text_ = q if round_ == 0 else f"{q} ({round_})"
                began = time.perf_counter()
                hits = await service.search(
                    demo.db,
                    provider,
                    org_id=big,
                    staff=True,
                    query=text_,
                    filter=service.SearchFilter(),
                    first=10,
                    ef_search=settings.search_ef_search,
                )
                latencies["search"].append((time.perf_counter() - began) * 1000)
                assert len(hits) == 10
                vector = service._vector_text((await provider.embed([text_]))[0])
                async with conn.transaction():
                    await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                    await conn.execute(f"SET LOCAL hnsw.ef_search = {settings.search_ef_search}")
                    began = time.perf_counter()
                    approx = await conn.fetch(knn, vector, big)
                    latencies["raw_knn"].append((time.perf_counter() - began) * 1000)
                if round_ == 0:
                    for name, org_id in (("big", big), ("small", small)):
                        async with conn.transaction():
                            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                            await conn.execute(
                                f"SET LOCAL hnsw.ef_search = {settings.search_ef_search}"
                            )
                            await conn.execute("SET LOCAL enable_seqscan = off")
                            await conn.execute("SET LOCAL enable_bitmapscan = off")
                            found = {
                                r["id"] for r in await conn.fetch(knn + " -- hnsw", vector, org_id)
                            }
                        async with conn.transaction():
                            await conn.execute("SET LOCAL enable_indexscan = off")
                            exact = {
                                r["id"] for r in await conn.fetch(knn + " -- exact", vector, org_id)
                            }
                        recall[name].append(len(found & exact) / len(exact))
                    assert approx
        plan = await conn.fetch(
            "EXPLAIN " + knn.replace("$1::text", f"'{vector}'::text").replace("$2", f"'{big}'")
        )
    finally:
        await conn.close()
    return {
        "documents": DOCUMENTS,
        "model": model,
        "embedding_docs_per_s": round(DOCUMENTS / embed_seconds),
        "indexer_docs_per_s": round(PIPELINE / pipeline_seconds),
        "hnsw_build_s": round(build_seconds, 1),
        "search_ms": {
            "p50": _pct(latencies["search"], 0.5),
            "p99": _pct(latencies["search"], 0.99),
            "mean": round(statistics.mean(latencies["search"]), 2),
        },
        "raw_knn_ms": {
            "p50": _pct(latencies["raw_knn"], 0.5),
            "p99": _pct(latencies["raw_knn"], 0.99),
        },
        "recall_at_10_hnsw_vs_exact": {
            "big_school": round(statistics.mean(recall["big"]), 3),
            "small_school_in_the_same_table": round(statistics.mean(recall["small"]), 3),
        },
        "knn_plan_uses_hnsw": any(index in r[0] for r in plan),
    }


async def main() -> None:
    async with demo_school() as demo:
        figures = await run(demo)
    print(json.dumps({"search": figures}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
