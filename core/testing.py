"""What several apps' tests (and the bench and bin/screenshots) share: free ports, the processes
they start and stop, a throwaway SMTP server, headless Chromium, and the settings of a Redis that
is down. Test support, not app code: the image does not ship it."""

import contextlib
import email
import email.message
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

# On the real stack (CI's second pass) tests that need a service must run, never skip.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# Headless Chromium for Playwright: Debian's, installed by bin/install-system-deps (Playwright's
# own browser download is not used). CHROMIUM=... points elsewhere.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# CACHES for a Redis that is down: nothing listens on port 1, so every call is refused at once
# (short timeouts in case the network stalls instead). Use with override_settings(CACHES=...).
# Both aliases the production settings have when REDIS_URL is set.
_DEAD_REDIS_CACHE = {
    "BACKEND": "core.redis_cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
}
DEAD_REDIS = {"default": _DEAD_REDIS_CACHE, "sessions": {**_DEAD_REDIS_CACHE, "MAX_TIMEOUT": 300}}


def clean_env(**overrides: str) -> dict[str, str]:
    """The caller's environment without its Django settings, DATABASE_URL or REDIS_URL (pytest
    points at the test settings and database), plus `overrides`: for a process that must
    configure itself, as a deployment would."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, **overrides}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on `port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def postgres_url(db: dict, *, name: str | None = None) -> str:
    """A DATABASE_URL for a process started beside the suite: the database that `db` (a
    DATABASES entry) points at, or another one on the same server. Inside a test the suite's
    entry names the test database (test_<name>), where the test's committed rows are."""
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}{'@' if auth else ''}{host}/{name or db['NAME']}"


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    log: Callable[[], str] = lambda: "",
    interval: float = 0.2,
) -> None:
    """Poll `predicate` until it is true. An OSError counts as not yet (a port that is not
    bound yet refuses); `process` exiting first, or the timeout, raises with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited ({process.returncode}) before {what}:\n{log()}")
        with contextlib.suppress(OSError):
            if predicate():
                return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}:\n{log()}")


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """SIGTERM, the time to shut down warmly, then SIGKILL."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Process trees, read from /proc -------------------------------------------------------


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc, or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def descendants(root: int) -> set[int]:
    """Every process below root (honcho starts each process in a session of its own, so a
    process-group check would miss them; the parent links don't)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))):
            children.setdefault(stat[1], []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """A zombie has exited: it only waits for a parent (or init) to collect its status."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


# --- A real SMTP server ------------------------------------------------------------------------


class SmtpInbox:
    """An aiosmtpd handler that keeps every envelope it receives."""

    def __init__(self):
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[email.message.Message]:
        return [email.message_from_bytes(envelope.content) for envelope in self.envelopes]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, SmtpInbox]]:
    """An SMTP server on a free port of 127.0.0.1, for processes that send real mail: yields
    (port, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type, for the stack test's and the soak's
    HTTP clients (deploy/tests/stack.py, bench/soak_http.py). files: name -> (filename,
    content type, bytes)."""
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    for name, (filename, content_type, content) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
