"""Whatever `schoolgraph dev` starts stops when dev stops, even when dev is killed by SIGKILL.

- dev holds an flock on `<data_dir>/dev.lock` for its lifetime: a second dev on the same data
  dir refuses, naming the first one's pid.
- dev writes down in `<data_dir>/dev.json` what it starts (postgres, valkey: just before
  launching them; the worker: its pid and start time), so that only those are ever stopped.
  Servers that were already up (shared with another command) are not written down.
- A watchdog (`python -m app.devwatch`, in a session of its own so Ctrl-C and a closed
  terminal do not reach it) waits on the read end of a pipe whose write end only dev holds.
  The kernel closes that end however dev ends, so EOF means dev is gone: the watchdog stops
  the worker, then valkey (SIGTERM flushes its append-only file), then postgres (fast
  shutdown), as written down, and exits.
- The watchdog shares dev's lock, so a new dev waits for the cleanup to finish instead of
  adopting servers on their way down; and if the watchdog died too, the new dev stops what the
  record names before starting a fresh set.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.devservices import EmbeddedServices, process_start_time

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_WORKER_STOP_TIMEOUT = 10.0  # seconds from SIGTERM to SIGKILL
_CLEANUP_WAIT = 120.0  # a dead dev's watchdog may need this long (postgres stop + fallback)


class DevLockError(Exception):
    """Another dev owns the data dir (the message is one line for the terminal)."""


def _ident(pid: int) -> list[int] | None:
    start = process_start_time(pid)
    return None if start is None else [pid, start]


def _alive(ident: Any) -> bool:
    return (
        isinstance(ident, list)
        and len(ident) == 2
        and process_start_time(int(ident[0])) == int(ident[1])
    )


def _record_path(data_dir: Path) -> Path:
    return data_dir / "dev.json"


def read_record(data_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads(_record_path(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_record(data_dir: Path, record: dict[str, Any]) -> None:
    # Replaced, never rewritten in place: a second dev may read it at any moment.
    tmp = _record_path(data_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(_record_path(data_dir))


def _stop_process(ident: Any, timeout: float) -> None:
    if not _alive(ident):
        return
    pid = int(ident[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(ident) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(ident):
        log.warning("process %s did not stop in %s s; killing it", pid, timeout)
        os.kill(pid, signal.SIGKILL)


def stop_owned(data_dir: Path, record: dict[str, Any]) -> None:
    """Stop what a dev wrote down as started by it; each step is a no-op if already done."""
    services = EmbeddedServices(data_dir)
    steps: list[tuple[str, Callable[[], None]]] = [
        # The worker first, while the servers it talks to are still up.
        ("worker", lambda: _stop_process(record.get("worker"), _WORKER_STOP_TIMEOUT)),
        ("valkey", services.valkey.stop if record.get("valkey") else lambda: None),
        ("postgres", services.postgres.stop if record.get("postgres") else lambda: None),
    ]
    for name, step in steps:
        try:
            step()
        except Exception:  # one that will not stop must not keep the others running
            log.exception("could not stop the %s of %s", name, data_dir)


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when the process starting it dies."""
    if not sys.platform.startswith("linux"):
        return None
    # Looked up before the fork: the child should only make the call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class DevSession:
    """dev's hold on its data dir: the lock, the record, and the watchdog."""

    def __init__(self, data_dir: Path, lock_fd: int) -> None:
        self.data_dir = data_dir
        self._lock_fd = lock_fd
        self._record: dict[str, Any] = {"dev": _ident(os.getpid())}
        self._pipe_w: int | None = None
        self.watchdog: subprocess.Popen[bytes] | None = None

    @classmethod
    def open(cls, data_dir: Path) -> DevSession:
        data_dir = data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / "dev.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd, data_dir)
            # Locked, so no dev and no watchdog is left: what a record names is a leftover.
            leftovers = read_record(data_dir)
            if any(leftovers.get(k) for k in ("worker", "valkey", "postgres")):
                log.warning("stopping what a dead schoolgraph dev left running in %s", data_dir)
                stop_owned(data_dir, leftovers)
            session = cls(data_dir, fd)
            session._save()
            session._start_watchdog()
        except BaseException:
            os.close(fd)
            raise
        return session

    def _save(self) -> None:
        _write_record(self.data_dir, self._record)

    def _start_watchdog(self) -> None:
        read_end, self._pipe_w = os.pipe()  # not inherited by anything else dev starts
        try:
            self.watchdog = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app.devwatch",
                    "--data-dir",
                    str(self.data_dir),
                    "--pipe-fd",
                    str(read_end),
                    "--lock-fd",
                    str(self._lock_fd),
                ],
                pass_fds=(read_end, self._lock_fd),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                # dev's terminal or pipe may be gone by the time the watchdog has work to do.
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # `-m` looks in the working directory first: the same `app` as dev's.
                cwd=str(Path(__file__).resolve().parent.parent),
            )
        finally:
            os.close(read_end)
        self._record["watchdog"] = _ident(self.watchdog.pid)
        self._save()

    def claim(self, name: str) -> None:
        """dev is about to start server `name`: the watchdog will stop it."""
        self._record[name] = True
        self._save()

    def claim_process(self, name: str, pid: int) -> None:
        self._record[name] = _ident(pid)
        self._save()

    def release_all(self) -> None:
        """dev stopped everything itself: leave nothing for the watchdog to do."""
        self._record = {k: v for k, v in self._record.items() if k in ("dev", "watchdog")}
        self._save()

    def close(self) -> None:
        """End the watchdog (it stops whatever is still written down) and free the lock."""
        if self._pipe_w is not None:
            os.close(self._pipe_w)
            self._pipe_w = None
        if self.watchdog is not None:
            try:
                self.watchdog.wait(timeout=_CLEANUP_WAIT)
            except subprocess.TimeoutExpired:
                log.warning("the dev watchdog (pid %s) is still stopping", self.watchdog.pid)
        os.close(self._lock_fd)


def _lock(fd: int, data_dir: Path) -> None:
    deadline = time.monotonic() + _CLEANUP_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_record(data_dir)
        dev = holder.get("dev")
        if isinstance(dev, list) and _alive(dev):
            raise DevLockError(
                f"schoolgraph dev is already running on {data_dir} (pid {dev[0]}); "
                "stop it first, or use another --data-dir"
            )
        # The holder just took the lock (no record yet), or it died and its watchdog is
        # still stopping what it started: wait for that rather than adopt half a set.
        if time.monotonic() > deadline:
            watchdog = holder.get("watchdog") or ["?"]
            raise DevLockError(
                f"a previous schoolgraph dev on {data_dir} is still shutting down "
                f"(watchdog pid {watchdog[0]})"
            )
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.devwatch", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--pipe-fd", type=int, required=True)
    parser.add_argument("--lock-fd", type=int, required=True)  # held open only: shares the lock
    args = parser.parse_args(argv)
    logging.basicConfig(
        filename=args.data_dir / "devwatch.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s devwatch[%(process)d] %(message)s",
    )
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while os.read(args.pipe_fd, 512):  # dev never writes: this returns at EOF
        pass
    record = read_record(args.data_dir)
    if any(record.get(k) for k in ("worker", "valkey", "postgres")):
        dev = record.get("dev") or ["?"]
        log.info("schoolgraph dev (pid %s) is gone; stopping what it started", dev[0])
        stop_owned(args.data_dir, record)
    with contextlib.suppress(OSError):
        _record_path(args.data_dir).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
