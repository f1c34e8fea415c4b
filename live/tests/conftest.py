"""Fixtures for the live tests: websocket headers from a forced login, and real ASGI server
processes against the test database for the cross-process and browser tests."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection
from django.test import Client as DjangoClient

BASE_DIR = Path(settings.BASE_DIR)
ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a new channel layer instance: no group memberships left over from another
    test's sockets (or its event loop)."""
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def session_cookie_for(user) -> str:
    """A session cookie value for `user`, as a browser would hold after logging in."""
    client = DjangoClient()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def ws_headers(*, session: str | None = None, origin: str | None = ORIGIN) -> list:
    headers = []
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    if origin:
        headers.append((b"origin", origin.encode()))
    return headers


# --- Real server processes (tests marked `services`) ------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    user = urllib.parse.quote(db.get("USER") or "")
    password = urllib.parse.quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


class AsgiServer:
    """`daphne mini_crm.asgi:application` in a subprocess on a free port."""

    def __init__(self, name: str, env: dict):
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = open(BASE_DIR / "artifacts" / f"live-server-{name}.log", "w")  # noqa: SIM115
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "mini_crm.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"server {self.name} did not start in {timeout}s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def asgi_servers(django_db_setup, django_db_blocker):
    """Two ASGI server processes, A and B, on the test database and the real Redis channel
    layer: what two web processes behind one load balancer share."""
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    (BASE_DIR / "artifacts").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "live.tests.server_settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # One connection per request: nothing holds the test database open between tests.
        "DATABASE_CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    servers = [AsgiServer("a", env), AsgiServer("b", env)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def http_get(url: str, *, cookies: dict) -> str:
    request = urllib.request.Request(url, headers={"Cookie": _cookie_header(cookies)})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


def _cookie_header(cookies: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class AdminOrderForm:
    """The Django admin's "add order" form on one server, as a staff user's browser uses it:
    `open()` GETs the form (session and CSRF cookies, token), `submit()` POSTs it."""

    def __init__(self, server: AsgiServer, *, session: str):
        self.url = f"{server.url}/admin/clients/order/add/"
        self.cookies = {settings.SESSION_COOKIE_NAME: session}
        self.token = ""

    def open(self) -> "AdminOrderForm":
        request = urllib.request.Request(self.url, headers={"Cookie": _cookie_header(self.cookies)})
        with urllib.request.urlopen(request, timeout=10) as response:
            html = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        return self

    def submit(self, **fields) -> int:
        """POST the form; returns the HTTP status (302 when the order was saved)."""
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token, "_save": "Save", **fields}
        ).encode()
        post = urllib.request.Request(
            self.url,
            data=body,
            headers={
                "Cookie": _cookie_header(self.cookies),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(post, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as redirect:
            return redirect.code
