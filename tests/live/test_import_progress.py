"""importProgress over a real socket: the job now, then after each batch, until it ends."""

from __future__ import annotations

from typing import Any

from app.db import Database
from app.graphql.relay import to_global_id
from app.imports import processing
from app.imports.kinds import ImportKind
from app.orgs.models import Role
from tests.conftest import Org
from tests.imports.test_jobs import STALE, roster_csv, start
from tests.live.conftest import following
from tests.live.wsclient import PROTOCOLS, Subscription

PROGRESS = """subscription($id: ID!) { importProgress(jobId: $id) {
  id status processed inserted failed } }"""


async def test_a_subscriber_follows_an_import_to_its_end(
    ws_url: str, app: Any, app_db: Database, org: Org
) -> None:
    job_id = await start(app_db, org, ImportKind.ROSTER, ("r.csv", roster_csv(120)))
    gid = to_global_id("ImportJob", job_id)
    for protocol in PROTOCOLS:
        sub = await Subscription.open(
            ws_url, org.token(Role.TEACHER), PROGRESS, {"id": gid}, protocol=protocol
        )
        try:
            first = (await sub.data())["importProgress"]
            if protocol == PROTOCOLS[0]:
                assert (first["id"], first["status"], first["processed"]) == (gid, "QUEUED", 0)
                await following(app.state.services.live, org.id)  # its feed is joined
                await processing.process(app_db, job_id, batch_size=50, stale=STALE)
                seen = []
                while True:
                    payload = await sub.next()
                    if payload.get("complete"):
                        break
                    seen.append(payload["data"]["importProgress"])
                assert seen[-1]["status"] == "SUCCEEDED" and seen[-1]["inserted"] == 120
                processed = [s["processed"] for s in seen]
                assert processed == sorted(processed) and processed[0] > 0
            else:  # a finished job: its state once, then the subscription completes
                assert first["status"] == "SUCCEEDED"
                assert (await sub.next()) == {"complete": True}
        finally:
            await sub.close()


async def test_aides_may_not_follow_imports(ws_url: str, app_db: Database, org: Org) -> None:
    job_id = await start(app_db, org, ImportKind.ROSTER, ("r.csv", roster_csv(1)))
    sub = await Subscription.open(
        ws_url, org.token(Role.AIDE), PROGRESS, {"id": to_global_id("ImportJob", job_id)}
    )
    try:
        payload = await sub.next()
        assert "requires role" in payload["errors"][0]["message"]
    finally:
        await sub.close()
