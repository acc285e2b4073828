"""Keeping documents fresh: after a commit (a real arq worker runs the queued job), by the
sweep when a job was lost, on edits, voids and deletes, and across a model switch. And who
sees what: tenancy, and aides never seeing support or intervention notes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from arq.jobs import Job
from sqlalchemy import text

from app.config import Settings
from app.db import Database
from app.graphql.relay import to_global_id
from app.incidents import flows
from app.orgs.models import Role
from app.search import embeddings, jobs, service
from app.search.models import SourceType
from tests.conftest import GraphQLClient, Org, Servers, make_org
from tests.search import support as w
from tests.support import job_pool, run_worker

SETTINGS = Settings(database_url=None, redis_url=None)
SEARCH = """query($q: String!, $f: SearchFilter, $n: Int! = 10) {
  search(query: $q, filter: $f, first: $n) {
    score snippet sourceType
    source { __typename ... on Incident { id note } ... on Student { id }
             ... on Intervention { id } }
    student { id name }
  }
}"""


async def find(
    db: Database, org: Org, query: str, *, staff: bool = True, provider: Any = None, **f: Any
) -> list[service.Hit]:
    return await service.search(
        db,
        provider or embeddings.provider(SETTINGS),
        org_id=org.id,
        staff=staff,
        query=query,
        filter=service.SearchFilter(**f),
        first=10,
    )


async def test_a_logged_incident_is_searchable_once_the_worker_has_run(
    app: Any,
    gql: GraphQLClient,
    db: Database,
    org: Org,
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = w.Written()
    sid = await w.student(db, org, written, "Maya Brook")
    token = org.token(Role.TEACHER)
    logged = await gql(
        "mutation($s: ID!) { logIncident(input: {studentId: $s, kind: NEGATIVE, "
        'category: "Physical aggression", note: "Threw a chair across the science lab '
        'at a classmate."}) { incident { id } errors { code } } }',
        {"s": to_global_id("Student", sid)},
        token=token,
    )
    incident_id = logged["data"]["logIncident"]["incident"]["id"]
    assert await find(db, org, "chair") == []  # not before the worker has run

    # The commit queued an indexing job (ids only) on the API's queue, just after the answer
    # (Database.settle waits for that step): run it on a worker.
    await app.state.services.db.settle()
    pool = app.state.services.queue.pool
    queued = [k.decode() async for k in pool.scan_iter(match=f"arq:job:search:{org.id}:*")]
    assert len(queued) == 1, queued
    info = await Job(queued[0].removeprefix("arq:job:"), pool, _deserializer=json_loads).info()
    assert info is not None and info.function == "index_students"
    assert list(info.args) == [str(org.id), [str(sid)]]
    await run_worker(servers, monkeypatch, (info.function, *info.args))

    body = await gql(SEARCH, {"q": "chair thrown in the lab"}, token=token)
    [hit] = body["data"]["search"]
    assert hit["source"] == {
        "__typename": "Incident",
        "id": incident_id,
        "note": "Threw a chair across the science lab at a classmate.",
    }
    assert hit["student"]["name"] == "Maya Brook"
    assert hit["sourceType"] == "INCIDENT_NOTE"
    assert "<mark>chair</mark>" in hit["snippet"] and "<mark>lab</mark>" in hit["snippet"]


def json_loads(raw: bytes) -> Any:
    return json.loads(raw)


async def test_the_sweep_indexes_what_a_lost_job_left(
    db: Database, org: Org, servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `db` here has no indexing hook: as if the queue had been down when this committed.
    written = w.Written()
    sid = await w.student(db, org, written, "Leo Hart")
    await w.incident(db, org, sid, "Kicked the classroom door off its hinges.")
    provider = embeddings.provider(SETTINGS)
    assert org.id in await service.orgs_pending(db, provider)

    async with job_pool(servers.redis_url, "test-sweep:" + uuid.uuid4().hex) as pool:
        assert await jobs.sweep_search({"db": db, "redis": pool}) >= 1
        ours = await Job(jobs.org_job_id(org.id), pool, _deserializer=json_loads).info()
        assert ours is not None and ours.function == "index_org"
    await run_worker(servers, monkeypatch, ("index_org", str(org.id)))
    [hit] = await find(db, org, "door hinges")
    assert hit.student_id == sid and "<mark>door</mark>" in hit.snippet
    assert org.id not in await service.orgs_pending(db, provider)


async def test_edits_replace_and_voids_and_deletes_remove_documents(db: Database, org: Org) -> None:
    written = w.Written()
    sid = await w.student(db, org, written, "Ada Quinn")
    other = await w.student(db, org, written, "Ben Quinn")
    incident = await w.incident(db, org, sid, "Shouted at the dinner staff.")
    await w.support_notes(db, org, sid, "Needs a quiet space at lunchtime.")
    await w.incident(db, org, other, "Took a classmate's calculator without asking.")
    first = await w.index(db, org)
    assert (first.embedded, first.deleted) == (3, 0)
    assert (await w.index(db, org)).embedded == 0  # nothing is stale: nothing re-embedded

    await w.support_notes(db, org, sid, "Sits with her learning mentor at lunchtime.")
    assert (await w.index(db, org)).embedded == 1  # only the changed note
    # (Search ranks every document by meaning: asserting on the top hit and on what the
    # snippets and sources are, not on a count.)
    hits = await find(db, org, "mentor")
    assert hits[0].source_type is SourceType.SUPPORT_NOTES
    assert "<mark>mentor</mark>" in hits[0].snippet
    assert not any("quiet" in h.snippet for h in await find(db, org, "quiet space"))

    async with db.transaction(org.id) as session:
        await flows.void_incident(
            session, actor=org.principal(), incident_id=incident, reason="wrong student"
        )
    await w.support_notes(db, org, sid, None)
    assert (await w.index(db, org)).deleted == 2
    hits = await find(db, org, "shouted at the dinner staff")
    assert [h.student_id for h in hits] == [other]

    async with db.admin_transaction() as session:  # a deleted student takes their documents
        await session.execute(text("DELETE FROM students WHERE id = :id"), {"id": other})
    assert await find(db, org, "calculator") == []


async def test_search_never_crosses_organisations_and_a_small_one_gets_full_results(
    db: Database,
) -> None:
    big, small = await make_org(db), await make_org(db)
    written_big, written_small = w.Written(), w.Written()
    big_student = await w.student(db, big, written_big, "Big School Pupil")
    # The big school writes many notes like the small school's; the vector scan must keep
    # going past them (iterative scan), not stop at the first candidates and filter after.
    async with db.transaction(big.id) as session:
        for i in range(300):
            await flows.log_incident(
                session,
                actor=big.principal(),
                data=w.incidents.IncidentData(
                    student_id=big_student,
                    kind=w.IncidentKind.NEGATIVE,
                    category="Disruption",
                    note=f"Talking over the teacher during the lesson, warning {i}.",
                ),
            )
    small_students = [
        await w.student(db, small, written_small, f"Small Pupil {i}") for i in range(12)
    ]
    for i, sid in enumerate(small_students):
        await w.incident(db, small, sid, f"Chatting through the lesson again ({i}).")
    await w.index(db, big)
    await w.index(db, small)
    hits = await find(db, small, "talking over the teacher")
    assert len(hits) == 10
    assert {h.student_id for h in hits} <= set(small_students)
    assert all(h.student_id == big_student for h in await find(db, big, "chatting"))


async def test_aides_never_find_support_or_intervention_notes(
    gql: GraphQLClient, db: Database, org: Org
) -> None:
    written = w.Written()
    sid = await w.student(db, org, written, "Ivy Stone")
    await w.incident(db, org, sid, "Crying in the corridor after a fall-out with friends.")
    await w.support_notes(db, org, sid, "Crying often at home since her parents separated.")
    await w.intervention(db, org, sid, "Counselling", "Crying less since weekly sessions.")
    await w.index(db, org)
    asked = {
        "q": "crying",
        "f": {"sourceTypes": ["SUPPORT_NOTES", "INTERVENTION_NOTES", "INCIDENT_NOTE"]},
    }
    staff = await gql(SEARCH, asked, token=org.token(Role.TEACHER))
    assert {h["sourceType"] for h in staff["data"]["search"]} == {
        "INCIDENT_NOTE",
        "SUPPORT_NOTES",
        "INTERVENTION_NOTES",
    }
    aide = await gql(SEARCH, asked, token=org.token(Role.AIDE))
    assert [h["sourceType"] for h in aide["data"]["search"]] == ["INCIDENT_NOTE"]
    only_hidden = {"q": "crying", "f": {"sourceTypes": ["SUPPORT_NOTES"]}}
    assert (await gql(SEARCH, only_hidden, token=org.token(Role.AIDE)))["data"]["search"] == []


# -- a model switch, with an OpenAI-compatible endpoint on 127.0.0.1 ---------------------

DIM = 64


def _hashed(text_: str) -> list[float]:
    """A deterministic bag-of-words vector: what a real endpoint's would be, for the test."""
    vector = [0.0] * DIM
    for word in re.findall(r"[a-z]+", text_.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % DIM] += 1.0 if digest[1] % 2 else -1.0
    return vector if any(vector) else [1.0] + [0.0] * (DIM - 1)


class _Embeddings(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "model": body["model"],
                "n": len(body["input"]),
            }
        )
        answer = {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": _hashed(t)}
                for i, t in enumerate(body["input"])
            ],
            "model": body["model"],
        }
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Embeddings.calls = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


async def test_switching_the_model_reindexes_and_search_reads_only_the_new_model(
    db: Database, org: Org, endpoint: str
) -> None:
    written = w.Written()
    sid = await w.student(db, org, written, "Omar Field")
    await w.incident(db, org, sid, "Left the lesson without permission.")
    await w.intervention(db, org, sid, "Mentoring", "Weekly mentoring with Mr Cole.")
    await w.index(db, org)
    switched = Settings(
        database_url=None,
        redis_url=None,
        embeddings="openai",
        embeddings_url=endpoint,
        embeddings_model="test-embed",
        embeddings_api_key="sk-test",
    )
    provider = embeddings.provider(switched)
    # Every document is of the old model now: stale, and not what search reads.
    async with db.transaction(org.id) as session:
        before = await service.status(session, provider, org_id=org.id)
    assert (before.sources, before.indexed, before.pending) == (2, 0, 2)
    assert org.id in await service.orgs_pending(db, provider)
    assert await find(db, org, "mentoring", provider=provider) == []

    await service.ensure_vector_index(db, provider)
    done = await service.index_pending(db, provider, org.id)
    assert done.embedded == 2
    hits = await find(db, org, "mentoring", provider=provider)
    assert len(hits) == 2  # both documents are back, rebuilt with the new model
    [found] = [h for h in hits if h.source_type is SourceType.INTERVENTION_NOTES]
    assert "<mark>mentoring</mark>" in found.snippet
    async with db.transaction(org.id) as session:
        models = (await session.execute(text("SELECT DISTINCT model, dim FROM documents"))).all()
    assert models == [("openai:test-embed/" + service.recipe.RECIPE, DIM)]
    assert all(
        c["auth"] == "Bearer sk-test" and c["path"] == "/v1/embeddings" for c in _Embeddings.calls
    )
    # The model's own HNSW index exists (partial, on its dimension).
    async with db.admin_transaction() as session:
        definition = (
            await session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                {"n": service.vector_index_name(service.model_name(provider))},
            )
        ).scalar_one()
    assert f"vector({DIM})" in definition and "openai:test-embed" in definition


async def test_an_endpoint_that_is_down_is_a_clear_error(
    gql: GraphQLClient, org: Org, db: Database
) -> None:
    down = embeddings.OpenAICompatible("http://127.0.0.1:9/v1", "m", None, 2.0)
    with pytest.raises(embeddings.EmbeddingError) as raised:
        await service.search(
            db,
            down,
            org_id=org.id,
            staff=True,
            query="x",
            filter=service.SearchFilter(),
            first=5,
        )
    assert raised.value.errors[0].code.value == "SEARCH_UNAVAILABLE"


async def test_full_text_can_use_its_index_under_row_level_security(db: Database) -> None:
    # Under the org policy Postgres uses an index only for LEAKPROOF conditions: without
    # ts_match_vq marked so (migration 0009), every `@@` reads all of an org's documents.
    async with db.admin_transaction() as session:
        leakproof = await session.scalar(
            text("SELECT proleakproof FROM pg_proc WHERE proname = 'ts_match_vq'")
        )
    assert leakproof is True


async def test_a_burst_of_commits_queues_one_indexing_job_per_org(
    db: Database, servers: Servers
) -> None:
    """Gathered over the hook's delay: three taps for two students are one job naming both,
    under the latest commit's transaction id; a later commit is a job of its own."""
    from functools import partial

    from app.queue import enqueue
    from app.search.flows import IndexAfterCommit
    from tests.factories import log, make_student

    org = await make_org(db)
    a, b = await make_student(db, org), await make_student(db, org)
    queue = "test-index-burst:" + uuid.uuid4().hex
    async with job_pool(servers.redis_url, queue) as pool:
        hook = IndexAfterCommit(partial(enqueue, pool), delay=30)  # only settle() queues
        db.after_commit.append(hook)  # `db` is shared: the hook is taken off at the end
        try:
            for sid in (a.id, b.id, a.id):
                await log(db, org, sid)
            assert await pool.zcard(queue) == 0  # still gathering
            async with db.transaction(org.id) as session:
                latest = (await session.execute(text("SELECT max(txid) FROM events"))).scalar_one()
            await db.settle()
            [job_id] = [k.decode() for k in await pool.zrange(queue, 0, -1)]
            assert job_id == f"search:{org.id}:{latest}"
            info = await Job(job_id, pool, _deserializer=json_loads).info()
            assert info is not None
            assert list(info.args) == [str(org.id), sorted([str(a.id), str(b.id)])]

            await log(db, org, b.id)
            await db.settle()
            assert await pool.zcard(queue) == 2
        finally:
            await db.settle()
            db.after_commit.remove(hook)


async def test_commits_while_a_batch_is_being_queued_are_queued_after_it(
    db: Database, servers: Servers
) -> None:
    """Text written while the hook is handing a batch to the queue is queued once that is
    done, without waiting for another commit to come along (or for the sweep)."""

    from app.queue import enqueue
    from app.search.flows import IndexAfterCommit
    from tests.factories import log, make_student

    org = await make_org(db)
    a, b = await make_student(db, org), await make_student(db, org)
    queue = "test-index-during:" + uuid.uuid4().hex
    async with job_pool(servers.redis_url, queue) as pool:
        entered, release = asyncio.Event(), asyncio.Event()

        async def slow_first_enqueue(*args: Any, **kwargs: Any) -> bool:
            if not entered.is_set():
                entered.set()
                await release.wait()
            return await enqueue(pool, *args, **kwargs)

        hook = IndexAfterCommit(slow_first_enqueue, delay=0.05)
        db.after_commit.append(hook)  # `db` is shared: the hook is taken off at the end
        try:
            await log(db, org, a.id)
            await asyncio.wait_for(entered.wait(), 5)  # the first batch is being queued
            await log(db, org, b.id)  # ... when b's text is written
            release.set()
            for _ in range(200):  # no commit after b's, and settle() is not called
                if await pool.zcard(queue) == 2:
                    break
                await asyncio.sleep(0.02)
            jobs = [k.decode() for k in await pool.zrange(queue, 0, -1)]
            assert len(jobs) == 2, jobs
        finally:
            release.set()
            await db.settle()
            db.after_commit.remove(hook)
