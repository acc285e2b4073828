"""`schoolgraph dev` from nothing: servers, migrations, demo school, token, API; SIGTERM
leaves no process behind, and a second start finds everything still there."""

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


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "JWT_SECRET"}
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
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


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)


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
        assert Path(f"/proc/{valkey_pid}").exists()
    finally:
        _stop(proc)
    assert proc.returncode == 0
    assert _processes_mentioning(str(data_dir)) == []  # postgres, the worker
    assert not Path(f"/proc/{valkey_pid}").exists()  # valkey renames its process title

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
