"""The server under test: gunicorn as production runs it, with bench.settings, and the one
request the bench sends it outside the load runs."""

import http.client
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import OUT_DIR, ROOT
from core.testing import free_port, stop


def server_env(*, database_url: str, redis_url: str, secret: str, token: str) -> dict[str, str]:
    """Production settings, plus what the bench needs: the bench views (behind a token), and
    throttle rates no benchmark reaches (the throttle still runs: it is part of the cost)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "BENCH_", "API_THROTTLE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secret,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # wrk plays the TLS proxy: it sends X-Forwarded-Proto, so HTTPS redirects, secure
        # cookies and HSTS stay exactly as in production.
        DJANGO_BEHIND_PROXY="1",
        DATABASE_URL=database_url,
        DATABASE_CONN_MAX_AGE="600",
        REDIS_URL=redis_url,
        STATIC_ROOT=str(OUT_DIR / "static"),
        BENCH_TOKEN=token,
        # Per second: DRF keeps one timestamp per request of the window and reads and writes
        # them all on every request: a minute at bench rates would grow to ~30,000 of them (at
        # 6,000 they already cost 0.3 ms a request). A second's worth is a few hundred, what
        # production's 600/min carries at most.
        API_THROTTLE_ANON="1000000/s",
        API_THROTTLE_USER="1000000/s",
        LOG_LEVEL="WARNING",
    )
    return env


def child_env(database_url: str, *, media_root: Path, redis_url: str = "") -> dict[str, str]:
    """A bench child process's environment (bench.imports, bench.timeline): production settings
    (no debug, a fresh secret key), its own database and media folder, Redis only when asked
    for, and none of the caller's Django, database, Redis, bench or import variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "BENCH_", "IMPORT_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mini_crm.settings",
        DJANGO_DEBUG="0",
        DJANGO_DEBUG_TOOLBAR="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",  # the test client's host too
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MEDIA_ROOT=str(media_root),
        STATIC_ROOT=str(media_root.parent / "static"),
        LOG_LEVEL="WARNING",
    )
    return env


class Server:
    """gunicorn with sync workers, as in production."""

    def __init__(self, env: dict[str, str], *, workers: int, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        command = [sys.executable, "-m", "gunicorn", "mini_crm.wsgi:application"]
        command += ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"]
        self.process = subprocess.Popen(
            [*command, "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < workers or not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start: see {log}")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        try:
            return get(self.base, "/health/", {"X-Forwarded-Proto": "https"})[0] == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        stop(self.process, timeout=30)
        self.log.close()


def get(base: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    return request(base, "GET", path, headers)


def request(
    base: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
