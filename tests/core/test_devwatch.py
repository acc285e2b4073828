"""A dev whose watchdog died with it (both SIGKILLed) leaves a half-dead set behind: the next
dev on that data dir stops exactly what the dead one wrote down, and nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from app.devservices import EmbeddedServices
from app.devwatch import DevSession, read_record

# A dev in miniature: the lock, the servers (claimed as dev claims them), and a stand-in
# worker without dev's die-with-parent request, so that only the next dev can stop it.
_DEAD_DEV = textwrap.dedent(
    """
    import subprocess, sys, time
    from pathlib import Path
    from app.devservices import EmbeddedServices
    from app.devwatch import DevSession

    data_dir = Path(sys.argv[1])
    session = DevSession.open(data_dir)
    EmbeddedServices(data_dir, on_starting=session.claim).start()
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", "worker", str(data_dir)]
    )
    session.claim_process("worker", worker.pid)
    print(session.watchdog.pid, worker.pid, flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_a_new_dev_stops_the_leftovers_of_a_dead_dev_and_watchdog(tmp_path: Path) -> None:
    data_dir = (tmp_path / "data").resolve()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    dead = subprocess.Popen(
        [sys.executable, "-c", _DEAD_DEV, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert dead.stdout is not None
        watchdog_pid, worker_pid = map(int, dead.stdout.readline().split())
        record = read_record(data_dir)
        assert record["postgres"] and record["valkey"] and record["worker"][0] == worker_pid

        os.kill(watchdog_pid, signal.SIGKILL)  # first, so that nobody cleans up
        _wait_gone(watchdog_pid)
        dead.kill()
        dead.wait(timeout=10)
        # Half dead: valkey gone too, postgres and the worker still up.
        services = EmbeddedServices(data_dir)
        valkey_pid = int(services.valkey.pidfile.read_text())
        os.kill(valkey_pid, signal.SIGKILL)
        _wait_gone(valkey_pid)
        assert services.postgres._running_port() is not None
        assert _alive(worker_pid)

        session = DevSession.open(data_dir)
        try:
            assert not _alive(worker_pid)
            assert services.postgres._running_port() is None  # stopped, to be started afresh
            assert _alive(bystander.pid)  # only what the dead dev wrote down
            assert set(read_record(data_dir)) == {"dev", "watchdog"}
        finally:
            session.close()
        assert not (data_dir / "dev.json").exists()  # the watchdog had nothing left to do
    finally:
        for proc in (bystander, dead):
            proc.kill()
            proc.wait()
        if dead.stdout is not None:
            dead.stdout.close()
        EmbeddedServices(data_dir).destroy()
