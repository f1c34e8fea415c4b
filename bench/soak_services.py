"""The soak's own PostgreSQL and Redis (never the machine's shared ones: the soak restarts
them), the production stack of bin/stack on top of them, and the RSS of every process.

PostgreSQL is a throwaway cluster (initdb, trust auth, loopback only) in a temporary folder
owned by the `postgres` user when the soak runs as root (initdb refuses root). Redis runs with
an append-only file and no snapshots, so a restart comes back with its keys (Celery's queue,
the channel layer's groups, the cached sessions), as a production Redis with AOF would.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import ROOT
from core.testing import alive, command_line, descendants, port_open

PG_BIN = Path(os.environ.get("SOAK_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _run_as(user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--"] if user else []


class Postgres:
    """A PostgreSQL cluster of our own on `port`, in `base`/data."""

    def __init__(self, base: Path, port: int):
        self.base, self.port = base, port
        self.data, self.log = base / "data", base / "postgres.log"
        # initdb and the server refuse to run as root: as root, run them as `postgres`.
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            owner = pwd.getpwnam(self.user)
            base.mkdir(parents=True, exist_ok=True)
            os.chown(base, owner.pw_uid, owner.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{port}/soak"

    def _ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=200"
        )
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w"]
        return subprocess.run(
            [*_run_as(self.user), *command, *args, "-o", options],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> None:
        if port_open(self.port):
            raise SystemExit(f"soak: port {self.port} is taken (SOAK_PG_PORT picks another)")
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        result = subprocess.run(
            [*_run_as(self.user), *initdb, "-E", "UTF8", "--no-sync"],
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise SystemExit(f"soak: initdb failed:\n{result.stdout}{result.stderr}")
        result = self._ctl("start")
        if result.returncode:
            raise SystemExit(f"soak: PostgreSQL did not start:\n{result.stderr}\n{self.log}")
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"]
        subprocess.run(
            [*psql, "-c", "CREATE DATABASE soak"],
            check=True,
            capture_output=True,
        )

    def restart(self) -> None:
        """Fast shutdown (every session is cut, open transactions roll back), then start."""
        result = self._ctl("restart", "-m", "fast")
        if result.returncode:
            raise RuntimeError(f"pg_ctl restart failed: {result.stderr}")

    def pids(self) -> list[int]:
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *sorted(descendants(postmaster))]

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._ctl("stop", "-m", "fast", timeout=30)


class Redis:
    """redis-server on `port` with an append-only file in `base`: restarted on the same file."""

    def __init__(self, base: Path, port: int):
        self.base, self.port = base, port
        self.log = base / "redis.log"
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        if self.process is None and port_open(self.port):
            raise SystemExit(f"soak: port {self.port} is taken (SOAK_REDIS_PORT picks another)")
        self.base.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "yes", "--dir", str(self.base)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: see {self.log}")
            time.sleep(0.02)

    def ping(self) -> bool:
        import redis

        with contextlib.suppress(Exception):
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        return False

    def shutdown(self) -> None:
        """SIGTERM, which Redis takes as SHUTDOWN: the append-only file is flushed, then the
        server exits. (redis-py's shutdown() retried on the dropped connection for seconds.)"""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.shutdown()
        self.start()

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process and self.process.poll() is None else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.shutdown()


# --- The stack -------------------------------------------------------------------------------
@dataclass
class Stack:
    """bin/stack (honcho and the Procfile's processes) on our PostgreSQL and Redis."""

    env: dict
    log: Path
    process: subprocess.Popen | None = None

    @property
    def proxy_port(self) -> int:
        return int(self.env["PROXY_PORT"])

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(ROOT / "bin" / "stack")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self) -> None:
        """SIGTERM to honcho, which stops its processes; SIGKILL for whatever is left."""
        if self.process is None:
            return
        processes = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        deadline = time.monotonic() + 10
        while [pid for pid in processes if alive(pid)] and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in processes:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def stack_env(*, database_url: str, redis_url: str, state: Path, ports: dict) -> dict:
    """Production settings as bin/stack sets them, on our services and ports; the caller's
    Django, database and Redis variables dropped."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "EMAIL_", "API_THROTTLE_", "IMPORT_"))
        and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STACK_STATE_DIR=str(state / "state"),
        STATIC_ROOT=str(state / "static"),
        MEDIA_ROOT=str(state / "media"),
        WEB_PORT=str(ports["web"]),
        WS_PORT=str(ports["ws"]),
        PROXY_PORT=str(ports["proxy"]),
        WEB_CONCURRENCY=os.environ.get("SOAK_WEB_CONCURRENCY", "2"),
        WORKER_CONCURRENCY="2",
        # 32 users from one address: production's per-user rate still applies (each user
        # has its own bucket), the anonymous one would only refuse the health probes.
        API_THROTTLE_USER="100000/min",
        API_THROTTLE_ANON="100000/min",
        # Every import goes through the worker (the load's small files too), so the worker and
        # its broker are under the load and the restarts.
        IMPORT_BACKGROUND_KB="1",
        LOG_LEVEL="WARNING",
    )
    return env


# --- RSS ---------------------------------------------------------------------------------
# The roles, by the command line of the stack's processes (bin/web, bin/ws, ...).
ROLES = {
    "web master": lambda cmd, parent: "gunicorn" in cmd and "gunicorn" not in parent,
    "web workers": lambda cmd, parent: "gunicorn" in cmd and "gunicorn" in parent,
    "ws (uvicorn)": lambda cmd, parent: "uvicorn" in cmd,
    "worker": lambda cmd, parent: "celery" in cmd and " worker" in cmd,
    "beat": lambda cmd, parent: "celery" in cmd and " beat" in cmd,
    "nginx": lambda cmd, parent: cmd.startswith("nginx"),
}


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class RssSample:
    """RSS (kB) summed per role, and the pids seen in each."""

    kb: dict[str, int] = field(default_factory=dict)
    pids: dict[str, list[int]] = field(default_factory=dict)


def rss_sample(stack: Stack, postgres: Postgres, redis: Redis) -> RssSample:
    sample = RssSample()
    if stack.process is not None:
        for pid in sorted(descendants(stack.process.pid)):
            cmd, parent = command_line(pid), command_line(_parent(pid))
            role = next((name for name, test in ROLES.items() if test(cmd, parent)), None)
            # The celery worker's pool children share its command line: one role.
            if role:
                sample.pids.setdefault(role, []).append(pid)
    sample.pids["postgres"] = postgres.pids()
    sample.pids["redis"] = redis.pids()
    for role, pids in sample.pids.items():
        sample.kb[role] = sum(rss_kb(pid) for pid in pids)
    return sample


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
