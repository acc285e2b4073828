"""`schoolgraph dev` from nothing: servers, migrations, demo school, token, API; SIGTERM
leaves no process behind, and a second start finds everything still there. SIGKILL of dev
leaves no process behind either, and a second dev on a live data dir refuses."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if text in cmdline and "State:\tZ" not in status:
            found.append(cmdline)
    return found


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _dev_env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}
    }


def _dev_command(data_dir: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app.cli",
        "dev",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        _dev_command(data_dir, port),
        env=_dev_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = ""
    deadline = time.monotonic() + 180
    while "Uvicorn running" not in output:
        line = proc.stdout.readline()
        assert line or proc.poll() is None, output
        output += line
        assert time.monotonic() < deadline, output
    return proc, output


def _stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM, then what dev printed while stopping (for the assertion's message)."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return out or ""


def test_dev_lifecycle(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    proc, output = _start(data_dir, port)
    try:
        assert f"http://127.0.0.1:{port}/graphql" in output
        assert "Seeded the demo school" in output
        token = re.search(r"\n\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n", output)
        assert token, output
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        query = {
            "query": "{ students(first: 100) { edges { node { id } } } atRiskStudents(minTier: 3) { edges { node { riskTier } } } }"
        }
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", json=query, headers=headers).json()
        assert len(body["data"]["students"]["edges"]) == 100
        assert body["data"]["atRiskStudents"]["edges"]
        assert _processes_mentioning(str(data_dir))  # the embedded servers are running
        assert _processes_mentioning(f"worker --data-dir {data_dir}")
        valkey_pid = int((data_dir / "valkey" / "valkey.pid").read_text())
        assert _alive(valkey_pid)
    finally:
        stopping = _stop(proc)
    assert proc.returncode == 0, stopping
    assert _processes_mentioning(str(data_dir)) == []  # postgres, the worker
    # valkey renames its process title; exited, it may linger as a zombie until init reaps it
    assert not _alive(valkey_pid)

    proc, output = _start(data_dir, port)
    try:
        assert "Seeded" not in output  # the school from the first start is still there
        token = re.search(r"\n\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n", output)
        assert token
        body = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ students(first: 1) { edges { node { id } } } }"},
            headers={"Authorization": f"Bearer {token.group(1)}"},
        ).json()
        assert body["data"]["students"]["edges"]
    finally:
        _stop(proc)
    assert _processes_mentioning(str(data_dir)) == []


def _students(port: int, output: str) -> list[object]:
    token = re.search(r"\n\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)\n", output)
    assert token, output
    body = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": "{ students(first: 1) { edges { node { id } } } }"},
        headers={"Authorization": f"Bearer {token.group(1)}"},
    ).json()
    edges: list[object] = body["data"]["students"]["edges"]
    return edges


def test_dev_killed_by_sigkill_takes_everything_it_started(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", _free_port()
    proc, output = _start(data_dir, port)
    assert "Seeded the demo school" in output
    worker = _processes_mentioning(f"worker --data-dir {data_dir}")
    assert worker
    valkey_pid = int((data_dir / "valkey" / "valkey.pid").read_text())
    postmaster_pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    assert _alive(valkey_pid) and _alive(postmaster_pid)

    proc.kill()  # SIGKILL: dev runs no code of its own from here on
    proc.wait(timeout=10)
    assert proc.stdout is not None
    proc.stdout.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (
        _processes_mentioning(str(data_dir)) or _alive(valkey_pid) or _alive(postmaster_pid)
    ):
        time.sleep(0.2)
    assert _processes_mentioning(str(data_dir)) == []  # worker, postgres, the watchdog
    assert not _alive(valkey_pid)  # valkey renames its process title
    assert not _alive(postmaster_pid)

    proc, output = _start(data_dir, port)
    try:
        assert "Seeded" not in output  # the demo school survived the kill
        assert _students(port, output)

        # A second dev on the live data dir refuses, naming the first, and changes nothing.
        second = subprocess.run(
            _dev_command(data_dir, _free_port()),
            env=_dev_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert second.stderr.strip().splitlines() == [
            f"error: schoolgraph dev is already running on {data_dir.resolve()} (pid {proc.pid}); "
            "stop it first, or use another --data-dir"
        ]
        assert "Migrating" not in second.stdout
        assert _students(port, output)
    finally:
        stopping = _stop(proc)
    assert proc.returncode == 0, stopping
    assert _processes_mentioning(str(data_dir)) == []
