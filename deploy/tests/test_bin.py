"""The process scripts in bin/: the proxy's rendered config, the stack's refusals, the
container healthcheck. Fast: no database, no Django process."""

import importlib.util
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from core.testing import REQUIRE_SERVICES, clean_env

ROOT = Path(__file__).resolve().parents[2]


def _run_stack(**env):
    return subprocess.run(
        [str(ROOT / "bin" / "stack")],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_stack_refuses_to_start_without_database_url():
    result = _run_stack(REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 2
    assert "DATABASE_URL is required" in result.stderr


def test_the_stack_refuses_sqlite():
    result = _run_stack(DATABASE_URL="sqlite:///var/db.sqlite3", REDIS_URL="redis://x:6379/0")
    assert result.returncode == 2
    assert "DATABASE_URL must be a PostgreSQL URL" in result.stderr


def test_the_stack_refuses_to_start_without_redis_url():
    result = _run_stack(DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")
    assert result.returncode == 2
    assert "REDIS_URL is required" in result.stderr


@pytest.fixture
def nginx():
    path = shutil.which("nginx", path=f"{os.environ['PATH']}:/usr/sbin")
    if path is None:
        if REQUIRE_SERVICES:
            pytest.fail("nginx is missing: bash bin/install-system-deps")
        pytest.skip("nginx is not installed (bash bin/install-system-deps)")
    return str(path)


@pytest.mark.parametrize("front", ["", "10.0.0.0/8,::1"])
def test_the_proxy_config_renders_and_nginx_accepts_it(nginx, tmp_path, front):
    env = clean_env(
        PROXY_TRUSTED_FRONT=front,
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        PROXY_RUNTIME_DIR=str(tmp_path / "proxy"),
        PROXY_LISTEN="127.0.0.1:1",  # never bound: nginx -t only parses
        WEB_UPSTREAM="127.0.0.1:8000",
        WS_UPSTREAM="127.0.0.1:8001",
        PATH=f"{Path(nginx).parent}:{os.environ['PATH']}",
    )
    # Render only: run bin/proxy with `nginx` replaced by a stub that records its arguments.
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "nginx").write_text('#!/bin/sh\necho "$@" >> "$NGINX_CALLS"\n')
    (stub / "nginx").chmod(0o755)
    env["PATH"] = f"{stub}:{env['PATH']}"
    env["NGINX_CALLS"] = str(tmp_path / "calls")
    result = subprocess.run(
        [str(ROOT / "bin" / "proxy")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    conf = (tmp_path / "proxy" / "nginx.conf").read_text()
    assert "${" not in conf  # every name of ours was substituted...
    assert "$http_upgrade" in conf  # ...and nginx's own variables were left alone
    assert f"alias {tmp_path}/media/;" in conf
    assert "server 127.0.0.1:8001;" in conf
    assert "daemon off;" in (tmp_path / "calls").read_text()
    # Upstream gets nginx's own view of the client, never a header the client sent...
    assert "X-Forwarded-For $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf
    # ...except from the TLS terminator in front that PROXY_TRUSTED_FRONT names.
    realip = (tmp_path / "proxy" / "front-realip.conf").read_text()
    geo = (tmp_path / "proxy" / "front-geo.conf").read_text()
    if front:
        assert realip.splitlines() == ["set_real_ip_from 10.0.0.0/8;", "set_real_ip_from ::1;"]
        assert geo.splitlines() == ["10.0.0.0/8 1;", "::1 1;"]
    else:
        assert realip == geo == ""
    # The real nginx accepts the rendered file.
    check = subprocess.run(
        [nginx, "-t", "-q", "-c", str(tmp_path / "proxy" / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr


def test_the_proxy_refuses_a_trusted_front_that_is_not_an_address(tmp_path):
    result = subprocess.run(
        [str(ROOT / "bin" / "proxy")],
        cwd=ROOT,
        env=clean_env(
            PROXY_RUNTIME_DIR=str(tmp_path),
            STATIC_ROOT=str(tmp_path),
            MEDIA_ROOT=str(tmp_path),
            PROXY_TRUSTED_FRONT="10.0.0.0/8; include /etc/passwd",
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "is not a CIDR or IP" in result.stderr


def test_the_proxy_needs_to_know_where_static_and_media_live(tmp_path):
    result = subprocess.run(
        [str(ROOT / "bin" / "proxy")],
        cwd=ROOT,
        env=clean_env(PROXY_RUNTIME_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "STATIC_ROOT is required" in result.stderr


# --- bin/healthcheck ------------------------------------------------------------------------


def _healthcheck_module():
    spec = importlib.util.spec_from_loader(
        "healthcheck",
        importlib.machinery.SourceFileLoader("healthcheck", str(ROOT / "bin" / "healthcheck")),
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ("crm.example.org,www.example.org", "crm.example.org"),
        (".example.org", "example.org"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_healthcheck_presents_an_allowed_host(monkeypatch, allowed, expected):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", allowed)
    assert _healthcheck_module().allowed_host() == expected


@pytest.fixture
def health_server():
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["host"], seen["path"] = self.headers["Host"], self.path
            status = 200 if self.path == "/health/" else 503
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()


def test_healthcheck_passes_when_health_answers_200(health_server):
    port, seen = health_server
    env = clean_env(DJANGO_ALLOWED_HOSTS="crm.example.org", WEB_PORT=str(port))
    result = subprocess.run([str(ROOT / "bin" / "healthcheck")], env=env, timeout=30)
    assert result.returncode == 0
    assert seen == {"host": "crm.example.org", "path": "/health/"}


def test_healthcheck_fails_on_an_error_status_or_a_closed_port(health_server):
    port, _ = health_server
    url = f"http://127.0.0.1:{port}/health/ready/"
    assert subprocess.run([str(ROOT / "bin" / "healthcheck"), url], timeout=30).returncode == 1
    closed = subprocess.run(
        [str(ROOT / "bin" / "healthcheck"), "http://127.0.0.1:1/health/"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert closed.returncode == 1
    assert "healthcheck:" in closed.stderr
