"""Search quality on the labelled set (tests/search/labelled.py): staff phrasing that shares
no word with the notes it should find. recall@5 of the shipped default (WordLlama, hybrid,
with the taxonomy) is asserted against a floor, and hybrid must beat each half alone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.config import Settings
from app.db import Database
from app.incidents.models import IncidentKind
from app.search import embeddings, service
from tests.conftest import Org, make_org
from tests.search import blind, heldout, labelled
from tests.search import support as w

SETTINGS = Settings(database_url=None, redis_url=None)


async def load_labelled(db: Database, org: Org, notes: Any = labelled.NOTES) -> w.Written:
    written = w.Written()
    for note in notes:
        sid = await w.student(db, org, written, note.student)
        if note.source == labelled.INCIDENT:
            key = await w.incident(
                db, org, sid, note.text, category=note.category, kind=IncidentKind(note.kind)
            )
            written.sources[note.key] = ("INCIDENT_NOTE", key)
        elif note.source == labelled.SUPPORT:
            await w.support_notes(db, org, sid, note.text)
            written.sources[note.key] = ("SUPPORT_NOTES", sid)
        else:
            key = await w.intervention(db, org, sid, note.category, note.text)
            written.sources[note.key] = ("INTERVENTION_NOTES", key)
    await w.index(db, org)
    return written


@pytest.fixture(scope="module")
async def labelled_org(db: Database) -> AsyncIterator[tuple[Org, w.Written]]:
    org = await make_org(db)
    yield org, await load_labelled(db, org)


@pytest.fixture(scope="module")
async def heldout_org(db: Database) -> AsyncIterator[tuple[Org, w.Written]]:
    org = await make_org(db)
    yield org, await load_labelled(db, org, heldout.NOTES)


async def recall_at(
    db: Database, org: Org, written: w.Written, *, mode: str, k: int = 5, queries: Any = None
) -> tuple[float, dict[str, Any]]:
    provider = embeddings.provider(SETTINGS)
    per_query = {}
    for q in queries or labelled.QUERIES:
        hits = await service.search(
            db,
            provider,
            org_id=org.id,
            staff=True,
            query=q.text,
            filter=service.SearchFilter(),
            first=k,
            mode=mode,
        )
        found = {written.key_of(h.source_id) for h in hits}
        per_query[q.text] = len(found & set(q.relevant)) / len(q.relevant)
    return sum(per_query.values()) / len(per_query), per_query


# What the default (WordLlama 256-d, hybrid, taxonomy) must keep: a little under what it
# measured here (see the note in the README's Search section), so a change that costs
# recall fails while the labelled set's noise does not.
RECALL_FLOOR = 0.75


async def test_recall_at_5_of_the_default(db: Database, labelled_org: Any) -> None:
    org, written = labelled_org
    results = {}
    for mode in ("hybrid", "vector", "text"):
        results[mode], per_query = await recall_at(db, org, written, mode=mode)
        if mode == "hybrid":
            print(json.dumps(per_query, indent=1))
    print(json.dumps(results))
    assert results["hybrid"] >= RECALL_FLOOR
    assert results["hybrid"] > results["vector"]
    assert results["hybrid"] > results["text"]


@pytest.fixture(scope="module")
async def blind_org(db: Database) -> AsyncIterator[tuple[Org, w.Written]]:
    org = await make_org(db)
    yield org, await load_labelled(db, org, blind.NOTES)


# tests/search/heldout.py was written after the first taxonomy was tuned on the labelled
# set, by a helper who had not seen the engine; it measured that taxonomy at 0.30 (vector
# alone 0.37), which is what made the taxonomy grow from 27 concepts (the school categories
# it lacked) to 41, so it is no longer unseen. tests/search/blind.py was written after that,
# blind to the engine and to both sets: its figure is the honest one.
HELDOUT_FLOOR = 0.50
BLIND_FLOOR = 0.50


async def _measured(db: Database, fixture: Any, queries: Any, name: str) -> dict[str, float]:
    org, written = fixture
    results = {}
    for mode in ("hybrid", "vector", "text"):
        results[mode], per_query = await recall_at(db, org, written, mode=mode, queries=queries)
        if mode == "hybrid":
            print(json.dumps(per_query, indent=1))
    print(name, json.dumps(results))
    return results


async def test_recall_at_5_on_the_held_out_set(db: Database, heldout_org: Any) -> None:
    results = await _measured(db, heldout_org, heldout.QUERIES, "heldout")
    assert results["hybrid"] >= HELDOUT_FLOOR


async def test_recall_at_5_on_the_blind_set(db: Database, blind_org: Any) -> None:
    results = await _measured(db, blind_org, blind.QUERIES, "blind")
    assert results["hybrid"] >= BLIND_FLOOR
