"""The live dashboard page in a real browser: headless Chromium from the system's packages,
driven by Playwright (never a downloaded browser), against a live uvicorn serving the demo
school. Skipped, saying so, where no Chromium is installed (apt-get install chromium)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.dashboard import service as dashboard
from app.db import Database
from app.events.service import EventScope
from app.graphql.relay import to_global_id
from app.orgs import service as orgs
from app.orgs.models import Role
from app.seed import seed_demo
from app.students.models import Student
from tests.conftest import Org
from tests.support import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the dashboard's browser tests need Chromium: apt-get install chromium",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOG = """mutation($s: ID!, $k: IncidentKind!) { logIncident(input: {studentId: $s, kind: $k,
  category: "Disruption", note: "Talking over the teacher."}) {
  incident { id strikeLevel student { riskTier } } errors { code } } }"""


@pytest.fixture
async def school(db: Database) -> Org:
    slug = "dash-" + uuid.uuid4().hex[:8]
    assert await seed_demo(db, slug=slug, students_count=60)
    async with db.admin_transaction() as session:
        org = await orgs.get_by_slug(session, slug=slug)
    assert org is not None
    return Org(org.id, slug)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _log(base: str, org: Org, student_id: uuid.UUID, kind: str = "NEGATIVE") -> Any:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/graphql",
            json={"query": LOG, "variables": {"s": to_global_id("Student", student_id), "k": kind}},
            headers={"Authorization": f"Bearer {org.token(Role.TEACHER)}"},
        )
    body = response.json()
    assert body["data"]["logIncident"]["errors"] == [], body
    return body["data"]["logIncident"]["incident"]


async def _signed_in(browser: Any, base: str, org: Org) -> Any:
    # bypass_csp: Playwright evaluates its waits in the page, which our CSP forbids.
    page = await browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    await page.goto(f"{base}/dashboard/")
    await page.get_by_test_id("token-input").fill(org.token(Role.ADMIN))
    await page.get_by_test_id("sign-in").click()
    await page.wait_for_function(
        "document.querySelector('[data-testid=connection-status]').textContent === 'live'",
        timeout=15_000,
    )
    assert await page.evaluate("sessionStorage.getItem('schoolgraph.token')") is not None
    assert "token" not in page.url
    return page


async def _text(page: Any, test_id: str) -> str:
    return str(await page.get_by_test_id(test_id).first.text_content()).strip()


async def _until(page: Any, test_id: str, expected: str) -> None:
    await page.wait_for_function(
        "([id, want]) => document.querySelector(`[data-testid=${id}]`)?.textContent === want",
        arg=[test_id, expected],
        timeout=15_000,
    )


async def test_the_page_shows_the_school_live(
    app: Any, db: Database, school: Org, browser: Any
) -> None:
    async with LiveServer(app) as server:
        base = server.url
        page = await _signed_in(browser, base, school)
        figures = await dashboard.snapshot(
            db, org_id=school.id, scope=EventScope(), now=datetime.now(UTC)
        )
        # The tiles say what the dashboard's figures say.
        await _until(page, "kpi-incidents-negative", str(figures.negative))
        assert await _text(page, "kpi-incidents-positive") == str(figures.positive)
        assert await _text(page, "kpi-incidents-neutral") == str(figures.neutral)
        assert await _text(page, "kpi-house-points") == str(figures.house_points)
        for tier in (1, 2, 3):
            assert await _text(page, f"tier-count-{tier}") == str(figures.students_by_tier[tier])
        # An incident logged over HTTP appears in the feed and moves the tile.
        async with db.transaction(school.id) as session:
            calm = (
                await session.execute(
                    select(Student.id)
                    .where(Student.org_id == school.id, Student.risk_tier == 1)
                    .limit(1)
                )
            ).scalar_one()
        logged = await _log(base, school, calm)
        await page.locator(f'[data-testid=feed-item][data-incident-id="{logged["id"]}"]').wait_for(
            timeout=15_000
        )
        await _until(page, "kpi-incidents-negative", str(figures.negative + 1))
        # A student pushed into tier 3 appears in the at-risk list.
        tier = logged["student"]["riskTier"]
        for _ in range(12):
            if tier == 3:
                break
            tier = (await _log(base, school, calm))["student"]["riskTier"]
        assert tier == 3
        student = to_global_id("Student", calm)
        await page.locator(f'[data-testid=at-risk-item][data-student-id="{student}"]').wait_for(
            timeout=15_000
        )
        # Its card opens from the list.
        await page.locator(
            f'[data-testid=at-risk-item][data-student-id="{student}"] button'
        ).click()
        await page.get_by_test_id("student-card").wait_for(timeout=15_000)
        assert "Recent incidents" in str(await page.get_by_test_id("student-card").text_content())
        assert await page.get_by_test_id("trend-chart").locator("rect").count() == 28
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


async def test_after_the_api_restarts_the_feed_shows_what_it_missed_once(
    app: Any, db: Database, school: Org, browser: Any
) -> None:
    from tests.factories import log

    async with db.transaction(school.id) as session:
        student = (
            await session.execute(select(Student.id).where(Student.org_id == school.id).limit(1))
        ).scalar_one()
    async with LiveServer(app) as server:
        page = await _signed_in(browser, server.url, school)
        first = await _log(server.url, school, student, "POSITIVE")
        await page.locator(f'[data-incident-id="{first["id"]}"]').wait_for(timeout=15_000)
        await server.stop()
        await _until(page, "connection-status", "reconnecting")
        missed = [await log(db, school, student) for _ in range(2)]  # while it is down
        await server.start()
        await _until(page, "connection-status", "live")
        for incident in missed:
            gid = to_global_id("Incident", incident.id)
            await page.locator(f'[data-incident-id="{gid}"]').wait_for(timeout=15_000)
        ids = await page.eval_on_selector_all(
            "[data-testid=feed-item]", "items => items.map(i => i.dataset.incidentId)"
        )
        assert sorted(ids) == sorted(
            [first["id"], *(to_global_id("Incident", i.id) for i in missed)]
        ), ids  # each once


async def test_the_page_is_served_without_a_cdn_and_keeps_the_token_out_of_urls(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        redirect = await http.get("/dashboard")
        assert redirect.status_code in (302, 307) and redirect.headers["location"] == "/dashboard/"
        page = await http.get("/dashboard/")
        assert page.status_code == 200 and "connection-status" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
        script = await http.get("/dashboard/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        vendored = await http.get("/dashboard/vendor/graphql-ws@6.0.6/graphql-ws.min.js")
        assert vendored.status_code == 200 and "graphqlWs" in vendored.text


async def test_the_scope_picker_lists_every_class_and_narrows_the_page(
    app: Any, db: Database, school: Org, browser: Any
) -> None:
    from tests.factories import make_student

    # More students than a page holds, the last of them (by name) in a class of their own:
    # a picker built from the first page would not offer it.
    for i in range(50):
        await make_student(db, school, name=f"Aaron {i:02d}", class_code="7A", year_group=7)
    await make_student(db, school, name="Zoe Last", class_code="ZZ9", year_group=9)
    async with db.transaction(school.id) as session:
        classes = set(
            (
                await session.execute(
                    select(Student.class_code).where(Student.org_id == school.id).distinct()
                )
            ).scalars()
        )
    async with LiveServer(app) as server:
        page = await _signed_in(browser, server.url, school)
        picker = page.get_by_test_id("scope-picker")
        await page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=scope-picker] option').length >= n",
            arg=len(classes) + 1,
            timeout=15_000,
        )
        labels = await picker.locator("option").all_text_contents()
        assert {f"Class {c}" for c in classes} <= set(labels)
        assert "Class ZZ9" in labels
        one = "ZZ9"
        await picker.select_option(f"class:{one}")
        figures = await dashboard.snapshot(
            db, org_id=school.id, scope=EventScope(class_code=one), now=datetime.now(UTC)
        )
        for tier in (1, 2, 3):
            await _until(page, f"tier-count-{tier}", str(figures.students_by_tier[tier]))
