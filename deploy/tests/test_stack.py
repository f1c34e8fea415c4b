"""The production stack without Docker, end to end.

`bin/stack` (what `make stack` runs) starts the Procfile's processes under honcho, with the
production settings, against a database of its own on the local PostgreSQL and the suite's Redis
database: nginx in front, gunicorn for pages, uvicorn for /ws/, the Celery worker and beat. The
tests talk to nginx only, as a browser behind a TLS terminator would. They share one stack but
none needs another to have run first: what several use (the logged-in browser, the client with
an avatar) is made by a fixture for whichever asks first, and the test that stops the stack
leaves the next one a fresh stack.
"""

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg
import pytest
import redis
from django.conf import settings

from clients.tests.factories import image_bytes
from core.testing import (
    SmtpInbox,
    alive,
    command_line,
    descendants,
    free_port,
    port_open,
    postgres_url,
    smtp_server,
    wait_until,
)
from deploy.tests.stack import Browser

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
# Named after the suite's database, so two checkouts testing at once never share (or drop)
# each other's stack database.
_SUITE_DATABASE = Path(str(settings.DATABASES["default"]["NAME"])).stem
STACK_DATABASE = re.sub(r"\W", "_", _SUITE_DATABASE) + "_stack"
START_TIMEOUT = 150  # seconds; ~15 s on an idle machine, far more when the 2 cores are shared
USERNAME, PASSWORD = "stack-admin", secrets.token_urlsafe(12)
MANAGER = "manager@stack.example.org"
ANON_RATE = 3  # anonymous API requests a minute per client address


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Replaces conftest's per-test cache flush here: this module's stack lives on the suite's
    Redis database, and a FLUSHDB between two steps would drop Celery's queue bindings and the
    channel layer's groups under the running processes."""


@dataclass
class Stack:
    process: subprocess.Popen
    env: dict
    log: Path
    ports: dict
    inbox: SmtpInbox
    # Made on first use by the fixtures below: the logged-in browser, the client with an avatar.
    logged_in: Browser | None = None
    created: dict = field(default_factory=dict)

    def browser(self, *, https=True, source="") -> Browser:
        return Browser(self.ports["proxy"], https=https, source=source)

    def manage(self, *args, extra_env=None):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )

    def log_tail(self, lines=60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _recreate_database(name: str, *, drop_only=False):
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    conninfo = psycopg.conninfo.make_conninfo(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def _started_stack(tmp: Path) -> Iterator[Stack]:
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    _recreate_database(STACK_DATABASE)
    try:
        with smtp_server() as (smtp_port, inbox), _processes(tmp, smtp_port, inbox) as stack:
            yield stack
    finally:
        _recreate_database(STACK_DATABASE, drop_only=True)


@contextlib.contextmanager
def _processes(tmp: Path, smtp_port: int, inbox: SmtpInbox) -> Iterator[Stack]:
    ports = {"web": free_port(), "ws": free_port(), "proxy": free_port()}
    # The caller's environment minus its Django settings (pytest points at the test settings).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "EMAIL_")) and k not in ("DATABASE_URL",)
    }
    env.update(
        DATABASE_URL=postgres_url(settings.DATABASES["default"], name=STACK_DATABASE),
        REDIS_URL=os.environ["REDIS_URL"],
        # A schedule of its own: beat fires at start whatever a left-over file says it missed.
        CELERY_BEAT_SCHEDULE_FILENAME=str(tmp / "state" / "celerybeat-schedule"),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production as deployed behind a TLS terminator: HTTPS redirect, Secure cookies, HSTS.
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SECURE_COOKIES="1",
        DJANGO_HSTS_SECONDS="3600",
        DJANGO_BEHIND_PROXY="1",
        # The tests play the TLS terminator in front of nginx (they send X-Forwarded-Proto), from
        # any loopback address: the one front nginx believes.
        PROXY_TRUSTED_FRONT="127.0.0.0/8",
        # Low enough to reach in a few requests; no other test here calls the API anonymously.
        API_THROTTLE_ANON=f"{ANON_RATE}/min",
        DJANGO_MANAGERS=f"Manager <{MANAGER}>",
        REPORT_RECIPIENTS=MANAGER,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        STATIC_ROOT=str(tmp / "static"),
        MEDIA_ROOT=str(tmp / "media"),
        STACK_STATE_DIR=str(tmp / "state"),
        WEB_PORT=str(ports["web"]),
        WS_PORT=str(ports["ws"]),
        PROXY_PORT=str(ports["proxy"]),
        WEB_CONCURRENCY="2",
        WORKER_CONCURRENCY="1",
        LOG_LEVEL="INFO",
    )
    log = tmp / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "stack")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    stack = Stack(process=process, env=env, log=log, ports=ports, inbox=inbox)
    try:
        wait_until(
            lambda: stack.browser(https=False).get("/health/ready/").status == 200,
            timeout=START_TIMEOUT,
            process=process,
            what="/health/ready/ through the proxy",
            log=stack.log_tail,
            interval=0.5,
        )
        wait_until(
            lambda: port_open(ports["ws"]),
            timeout=START_TIMEOUT,
            process=process,
            what="the websocket server",
            log=stack.log_tail,
            interval=0.5,
        )
        # The documented way to the first account (README "Deploy").
        result = stack.manage(
            "createsuperuser",
            "--noinput",
            extra_env={
                "DJANGO_SUPERUSER_USERNAME": USERNAME,
                "DJANGO_SUPERUSER_EMAIL": "admin@stack.example.org",
                "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            },
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield stack
    finally:
        if process.poll() is None:
            for pid in descendants(process.pid):
                _kill(pid)
            process.kill()
            process.wait(timeout=10)


def _kill(pid):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def _stacks(tmp_path_factory):
    """Starts the stack for the first test that needs it, and again for a test that runs after
    the stop test has stopped it (in file order that never happens)."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.fail("the stack test needs DATABASE_URL on PostgreSQL")
    current: dict = {}

    def running() -> Stack:
        if "stack" not in current or current["stack"].process.poll() is not None:
            if "exit" in current:
                current.pop("exit").close()  # the stopped stack's SMTP server and database
            exit_stack = contextlib.ExitStack()
            current["exit"] = exit_stack
            current["stack"] = exit_stack.enter_context(
                _started_stack(tmp_path_factory.mktemp("stack"))
            )
        return current["stack"]

    try:
        yield running
    finally:
        if "exit" in current:
            current["exit"].close()


@pytest.fixture
def stack(_stacks) -> Stack:
    return _stacks()


@pytest.fixture
def browser(stack) -> Browser:
    """Logged in through the proxy: CSRF token from the form, then the session cookie. One per
    stack, kept for the tests after."""
    if stack.logged_in is None:
        browser = stack.browser()
        token = browser.csrf_token_from("/accounts/login/")
        response = browser.post_form(
            "/accounts/login/",
            {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert response.status == 302, response.text[:1000]
        assert response.header("Location") == "/dashboard/"  # the landing page after login
        stack.logged_in = browser
    return stack.logged_in


@pytest.fixture
def avatar_client(stack, browser) -> dict:
    """A client created through the form with an avatar, once per stack: the form's response,
    the list that finds it, its id and its avatar's URL."""
    if not stack.created:
        token = browser.csrf_token_from("/clients/add/")
        response = browser.post_form(
            "/clients/add/",
            {
                "name": "Stack Tester",
                "email": "stack.tester@acme.org",
                "phone": "+49 30 123456",
                "csrfmiddlewaretoken": token,
            },
            files={"avatar": ("face.png", "image/png", image_bytes())},
        )
        assert response.status == 302, response.text[:2000]
        listing = browser.get("/clients/?q=stack.tester")
        client_id = re.search(r"/clients/(\d+)/edit/", listing.text)
        avatar_url = re.search(r'src="(/media/[^"]+)"', listing.text)
        assert client_id, listing.text[:2000]
        assert avatar_url, listing.text[:2000]
        stack.created.update(
            response=response,
            listing=listing,
            client_id=int(client_id.group(1)),
            avatar_url=avatar_url.group(1),
        )
    return stack.created


# --- The core: health, production settings, static, login, a client with an avatar ---------


def test_health_and_readiness_answer_through_the_proxy_over_plain_http(stack):
    browser = stack.browser(https=False)
    health = browser.get("/health/")
    assert (health.status, health.body) == (200, b"ok")
    ready = browser.get("/health/ready/")
    assert (ready.status, ready.body) == (200, b"ready")


def test_production_settings_are_in_force(stack):
    # Plain HTTP is sent to HTTPS: DEBUG is off and SECURE_SSL_REDIRECT on.
    redirect = stack.browser(https=False).get("/accounts/login/")
    assert redirect.status == 301
    assert redirect.header("Location").startswith("https://127.0.0.1:")
    page = stack.browser().get("/accounts/login/")
    assert page.status == 200
    assert "max-age=3600" in page.header("Strict-Transport-Security")
    assert "script-src 'self'" in page.header("Content-Security-Policy")
    missing = stack.browser().get("/no-such-page/")
    assert missing.status == 404
    assert "Traceback" not in missing.text  # no debug page


def test_hashed_static_files_come_from_nginx_compressed_and_cached_for_a_year(stack):
    page = stack.browser().get("/accounts/login/")
    hrefs = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
    pico = next(href for href in hrefs if "pico" in href)
    assert re.search(r"\.[0-9a-f]{12}\.css$", pico), pico  # the manifest's hashed name
    response = stack.browser().get(pico, **{"Accept-Encoding": "gzip"})
    assert response.status == 200
    # nginx's header (whitenoise would say max-age=315360000): the request never reached Django.
    assert response.header("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.header("Content-Encoding") == "gzip"


def test_login_through_the_proxy_sets_secure_session_cookies(browser):
    assert browser.cookie_attributes["sessionid"] == {"secure": True, "httponly": True}
    assert browser.cookie_attributes["csrftoken"]["secure"] is True
    assert browser.get("/clients/").status == 200


def test_a_wrong_password_is_refused_through_the_proxy(stack):
    browser = stack.browser()
    token = browser.csrf_token_from("/accounts/login/")
    response = browser.post_form(
        "/accounts/login/",
        {"username": USERNAME, "password": "wrong", "csrfmiddlewaretoken": token},
    )
    assert response.status == 200
    assert "sessionid" not in browser.cookies


def test_a_post_without_the_csrf_token_is_refused(browser):
    response = browser.post_form("/clients/add/", {"name": "No Token", "email": "x@y.org"})
    assert response.status == 403


def test_a_client_is_created_through_the_form_with_an_avatar(avatar_client):
    response, listing = avatar_client["response"], avatar_client["listing"]
    assert response.status == 302, response.text[:2000]
    assert "Stack Tester" in listing.text
    assert avatar_client["avatar_url"].startswith("/media/")


def test_media_is_sent_by_nginx_after_the_login_check(stack, browser, avatar_client):
    avatar_url = avatar_client["avatar_url"]
    response = browser.get(avatar_url)
    assert response.status == 200
    assert response.body == image_bytes()
    assert response.header("Content-Type") == "image/png"
    assert response.header("Cache-Control") == "private, max-age=3600"
    # Anonymous: Django refuses before nginx reads a byte.
    anonymous = stack.browser().get(avatar_url)
    assert anonymous.status == 302
    assert "/accounts/login/" in anonymous.header("Location")
    # The internal location cannot be reached from outside.
    internal = stack.browser().get(avatar_url.replace("/media/", "/protected-media/", 1))
    assert internal.status == 404


def test_two_client_addresses_get_their_own_lockout_and_throttle_bucket(stack):
    # nginx sends each client's address in X-Forwarded-For, and bin/stack trusts it from nginx
    # (DJANGO_TRUSTED_PROXIES=127.0.0.1): without that every client would be nginx's 127.0.0.1.
    first, second = stack.browser(source="127.0.0.2"), stack.browser(source="127.0.0.3")
    token = first.csrf_token_from("/accounts/login/")
    wrong = {"username": USERNAME, "password": "wrong", "csrfmiddlewaretoken": token}
    statuses = [first.post_form("/accounts/login/", wrong).status for _ in range(5)]
    assert statuses[-1] == 429, statuses  # AXES_FAILURE_LIMIT: 5
    token = second.csrf_token_from("/accounts/login/")
    right = {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert second.post_form("/accounts/login/", right).status == 302
    # The anonymous throttle (an anonymous, throttled API page: the docs) per address too.
    statuses = [first.get("/api/docs/").status for _ in range(ANON_RATE + 1)]
    assert statuses == [200] * ANON_RATE + [429]
    assert stack.browser(source="127.0.0.4").get("/api/docs/").status == 200


# --- The API, the websocket and the worker --------------------------------------------------


def test_an_order_created_through_the_api_reaches_the_websocket(stack, browser, avatar_client):
    from websockets.sync.client import connect

    client_id = avatar_client["client_id"]
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with connect(
        f"ws://127.0.0.1:{stack.ports['proxy']}/ws/clients/",
        origin=browser.origin,
        additional_headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
        open_timeout=10,
    ) as socket:
        # The API's OrderSerializer on main: client (id), title, amount, status (default NEW).
        # Writes are staff's: the stack's user is a superuser.
        order = {"client": client_id, "title": "Stack order", "amount": "42.50"}
        response = browser.request(
            "POST",
            "/api/orders/",
            body=json.dumps(order).encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": browser.cookies["csrftoken"],
            },
        )
        assert response.status == 201, response.text[:1000]
        order_id = str(json.loads(response.body)["id"])
        # The first message that names the new order (a greeting or other pushes may come first).
        received, deadline = [], time.monotonic() + 15
        while not any(order_id in m and "Stack Tester" in m for m in received):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no websocket message named order {order_id}: {received}")
            with contextlib.suppress(TimeoutError):
                received.append(socket.recv(timeout=remaining))


def test_a_big_import_runs_in_the_worker_and_its_progress_reaches_the_websocket(stack, browser):
    from websockets.sync.client import connect

    # Over IMPORT_BACKGROUND_KB (256): checked and committed by the worker, not the request.
    rows = ["name,email,phone"] + [
        f"Stack {i},stack{i}@import.example.org,+49 {i}" for i in range(12_000)
    ]
    content = "\n".join(rows).encode()
    assert len(content) > 256 * 1024
    token = browser.csrf_token_from("/clients/import/")
    uploaded = browser.post_form(
        "/clients/import/",
        {"on_duplicate": "skip", "csrfmiddlewaretoken": token},
        files={"file": ("stack.csv", "text/csv", content)},
    )
    assert uploaded.status == 302, uploaded.text[:2000]
    page = uploaded.header("Location")
    import_id = int(re.search(r"/imports/(\d+)/", page).group(1))

    def state() -> dict:
        return json.loads(browser.get(f"/imports/{import_id}/progress/").body)

    wait_until(
        lambda: state()["finished"], timeout=60, what="the worker's check", log=stack.log_tail
    )
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    with connect(
        f"ws://127.0.0.1:{stack.ports['proxy']}/ws/imports/{import_id}/",
        origin=browser.origin,
        additional_headers={"Cookie": cookie, "X-Forwarded-Proto": "https"},
        open_timeout=10,
    ) as socket:
        token = browser.csrf_token_from(page)
        committed = browser.post_form(
            f"/imports/{import_id}/commit/", {"csrfmiddlewaretoken": token}
        )
        assert committed.status == 302, committed.text[:2000]
        received, deadline = [], time.monotonic() + 60
        while not any(message["finished"] for message in received):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the import never said it finished: {received}\n{stack.log_tail()}")
            with contextlib.suppress(TimeoutError):
                received.append(json.loads(socket.recv(timeout=remaining)))
    assert any(m["stage"] == "saving" and m["done"] > 0 for m in received), received
    outcome = json.loads(browser.get(f"/api/imports/{import_id}/").body)
    assert (outcome["status"], outcome["created"]) == ("done", 12_000), outcome


def test_the_worker_delivers_the_report_task_by_email(stack):
    # Sent from outside the worker, through the broker, as beat sends it (the task's name on
    # main; no arguments: last month).
    script = "from mini_crm.celery import app; app.send_task('reports.send_monthly_report')"
    result = stack.manage("shell", "-c", script)
    assert result.returncode == 0, result.stdout + result.stderr
    deadline = time.monotonic() + 60
    while not stack.inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stack.inbox.envelopes, f"no e-mail from the worker:\n{stack.log_tail()}"
    assert MANAGER in stack.inbox.envelopes[0].rcpt_tos


# --- Last: the stop ---------------------------------------------------------------------------


def _loggers(log: Path) -> tuple[set, list[str]]:
    """The loggers named by the stack log's JSON records, and the log's lines."""
    lines = log.read_text(errors="replace").splitlines()
    records = []
    for line in lines:
        if "| {" in line:  # honcho prefixes each line with "time name.1 | "
            with contextlib.suppress(ValueError):
                records.append(json.loads(line.split("| ", 1)[1]))
    return {record.get("logger") for record in records}, lines


def test_the_logs_are_json_lines(stack):
    # A 404: nginx logs the request, Django's django.request logger the missing page.
    assert stack.browser().get("/no-such-page/").status == 404
    # nginx's access log, Django's own records, and the servers' (deploy/logging.json).
    expected = {"nginx.access", "django.request", "gunicorn.error", "uvicorn.error"}
    # The records pass through honcho's pipes: give them a moment to reach the log.
    deadline = time.monotonic() + 10
    while not expected <= (found := _loggers(stack.log))[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    loggers, lines = found
    assert expected <= loggers, (loggers, lines[-20:])


def test_the_stack_stops_cleanly_leaving_no_process(stack):
    processes = descendants(stack.process.pid)
    names = " ".join(command_line(pid) for pid in processes)
    expected = ["gunicorn", "uvicorn", "nginx"]
    if (ROOT / "mini_crm" / "celery.py").exists():
        expected += ["celery --app mini_crm worker", "celery --app mini_crm beat"]
    for process_name in expected:
        assert process_name in names, names
    stack.process.send_signal(signal.SIGTERM)
    stack.process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while (left := [pid for pid in processes if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, {pid: command_line(pid) for pid in left}
    for name, port in stack.ports.items():
        assert not port_open(port), f"{name} still listens on {port}"
    assert "SIGKILL" not in stack.log_tail(40), "a process had to be killed"
