"""On the real stack: racing claims on PostgreSQL, and a real Celery worker mailing the report
through a real SMTP server (required in CI's second pass)."""

import email
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from conftest import REQUIRE_SERVICES
from reports.models import ReportRun
from reports.services import monthly_report_send
from reports.tasks import send_monthly_report
from reports.tests.conftest import OCTOBER, local, order_at

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def race(count: int, **kwargs) -> list[str]:
    """Run monthly_report_send in `count` threads released at the same instant."""
    barrier = threading.Barrier(count)
    outcomes, errors = [], []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(monthly_report_send(month=OCTOBER, **kwargs).status)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    return sorted(outcomes)


@pytest.fixture
def slow_mail(monkeypatch):
    """Sending takes a moment, so racers overlap the winner's whole run."""
    original = EmailBackend.send_messages

    def slow(self, messages):
        time.sleep(0.3)
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)


def test_racing_first_runs_send_one_mail(slow_mail):
    order_at(local(2026, 10, 3))

    outcomes = race(2)

    assert outcomes == ["in_progress", "sent"]
    assert len(mail.outbox) == 1
    assert ReportRun.objects.get(month=OCTOBER).status == ReportRun.Status.SENT


def test_racing_retries_of_a_failed_run_send_one_mail(slow_mail):
    ReportRun.objects.create(month=OCTOBER, status="FAILED", claimed_at=timezone.now())

    outcomes = race(3)

    assert outcomes == ["in_progress", "in_progress", "sent"]
    assert len(mail.outbox) == 1


def test_racing_forced_resends_send_one_mail(slow_mail):
    monthly_report_send(month=OCTOBER)
    mail.outbox.clear()

    assert race(2, force=True) == ["in_progress", "sent"]
    assert len(mail.outbox) == 1


# --- A real worker, Redis and SMTP server ----------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url_or_skip() -> str:
    url = os.environ.get("REDIS_URL", "")
    reachable = False
    if url:
        import redis

        try:
            reachable = redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.RedisError:
            reachable = False
    if not reachable:
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but Redis is not reachable at REDIS_URL={url!r}")
        pytest.skip("needs a reachable Redis: set REDIS_URL")
    return url


def database_url() -> str:
    """The test database (test_<name>), where this test's committed rows are."""
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_real_worker_mails_the_report_through_a_real_smtp_server():
    redis_url = redis_url_or_skip()
    order_at(local(2026, 10, 15, 10), title="Real stack order", amount="42.00")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    # A queue of our own: nothing else on this Redis database can take the task or be taken.
    queue = f"report-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mini_crm.settings_test",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": redis_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_USE_TLS": "0",
        "DEFAULT_FROM_EMAIL": "Mini CRM <crm@mail.test>",
        "REPORT_RECIPIENTS": "boss@mail.test",
        "TIME_ZONE": "Europe/Berlin",
    }
    celery = [sys.executable, "-m", "celery", "-A", "mini_crm"]
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed in the finally below)
    worker = subprocess.Popen(
        [*celery, "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h", "-l", "INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        send_monthly_report.apply_async(kwargs={"month": "2026-10"}, queue=queue)
        # About 5 s on an idle machine (the worker's start is most of it); the ceiling is for
        # a loaded CI box.
        deadline = time.monotonic() + 60
        while not inbox.messages and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        log.seek(0)
        assert inbox.messages, f"no mail arrived; worker log:\n{log.read()[-4000:]}"
    finally:
        # A warm shutdown: the worker finishes the task (its SENT update included) first.
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        smtp.stop()
        log.close()

    [message] = inbox.messages
    assert message["To"] == "boss@mail.test"
    assert message["Subject"] == "Orders report October 2026"
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == "orders-2026-10.csv"
    assert attachment.get_content_type() == "text/csv"
    csv_text = attachment.get_payload(decode=True).decode()
    assert "Real stack order" in csv_text
    assert "TOTAL,1,42.00" in csv_text
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.row_count) == (ReportRun.Status.SENT, 1)
