"""Fixtures for the live tests: a fresh channel layer for each test, and real ASGI server
processes against the test database for the cross-process and browser tests."""

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection

from core.testing import free_port, postgres_url, stop, wait_until

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a new channel layer instance: no group memberships left over from another
    test's sockets (or its event loop)."""
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


# --- Real server processes (tests marked `services`) ------------------------------------------


class AsgiServer:
    """`daphne mini_crm.asgi:application` in a subprocess on a free port."""

    def __init__(self, name: str, env: dict):
        self.name = name
        self.port = free_port()
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

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health/", timeout=1) as response:
            return response.status == 200

    def wait_ready(self, timeout: float = 90) -> None:
        wait_until(
            self.healthy,
            timeout=timeout,
            what=f"server {self.name} to answer /health/ (log: {self.log.name})",
            process=self.process,
            interval=0.1,
        )

    def stop(self) -> None:
        stop(self.process, timeout=3)
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
        "DATABASE_URL": postgres_url(connection.settings_dict),
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
