"""The CLI against the test database: org create, token, and the token works on the API; no
token for an organisation that does not exist."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import jwt
from sqlalchemy import select

from app.db import Database
from app.students.models import Student
from tests.conftest import JWT_SECRET, GraphQLClient, Org, Servers


def _cli(servers: Servers, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "JWT_SECRET": JWT_SECRET,
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_org_create_and_token(servers: Servers, gql: GraphQLClient) -> None:
    slug = "cli-" + uuid.uuid4().hex[:8]
    created = _cli(servers, "org", "create", slug, "--name", "CLI School")
    assert created.returncode == 0, created.stderr
    again = _cli(servers, "org", "create", slug)
    assert again.returncode == 1 and "exists" in again.stderr
    issued = _cli(servers, "token", "--org", slug, "--role", "TEACHER", "--sub", "t-1")
    token = issued.stdout.strip()
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"])
    assert (claims["org"], claims["role"], claims["sub"]) == (slug, "TEACHER", "t-1")
    body = await gql("{ me { sub role orgSlug } }", token=token)
    assert body["data"]["me"] == {"sub": "t-1", "role": "TEACHER", "orgSlug": slug}


async def test_commands_refuse_an_unmigrated_database(
    servers: Servers, scratch_database_url: str
) -> None:
    from app import migrate

    assert await asyncio.to_thread(migrate.is_current, servers.database_url)
    assert not await asyncio.to_thread(migrate.is_current, scratch_database_url)
    result = _cli(Servers(scratch_database_url, servers.redis_url), "org", "create", "nope")
    assert result.returncode != 0
    assert "schoolgraph migrate" in result.stderr


def test_token_refuses_an_unknown_organisation(servers: Servers) -> None:
    slug = "nope-" + uuid.uuid4().hex[:8]
    result = _cli(servers, "token", "--org", slug, "--role", "ADMIN")
    assert result.returncode == 1
    assert result.stdout == ""  # no token to copy by mistake
    assert result.stderr.strip() == (
        f"error: no organisation '{slug}' (create it with: schoolgraph org create {slug})"
    )


def test_token_refuses_an_unmigrated_database(servers: Servers, scratch_database_url: str) -> None:
    result = _cli(
        Servers(scratch_database_url, servers.redis_url),
        "token",
        "--org",
        "demo",
        "--role",
        "ADMIN",
    )
    assert result.returncode != 0 and result.stdout == ""
    assert "schoolgraph migrate" in result.stderr


async def test_risk_recompute_evaluates_every_student_of_the_org(
    servers: Servers, db: Database, org: Org
) -> None:
    from tests.factories import make_student

    first, second = await make_student(db, org), await make_student(db, org)
    result = await asyncio.to_thread(_cli, servers, "risk", "recompute", "--org", org.slug)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{org.slug}: 2 students evaluated, 2 changed"
    async with db.transaction(org.id) as session:
        computed = (
            await session.execute(
                select(Student.risk_computed_at).where(Student.id.in_([first.id, second.id]))
            )
        ).scalars()
        assert all(at is not None for at in computed)
    missing = await asyncio.to_thread(_cli, servers, "risk", "recompute", "--org", "nope-x")
    assert missing.returncode == 1 and "no organisation 'nope-x'" in missing.stderr
