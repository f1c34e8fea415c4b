"""On the real stack: racing claims on PostgreSQL, and a real Celery worker mailing the report
through a real SMTP server (required in CI's second pass)."""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from core.testing import REQUIRE_SERVICES, postgres_url, smtp_server, stop
from reports.models import ReportRun
from reports.services import monthly_report_send
from reports.tasks import send_monthly_report
from reports.tests.support import OCTOBER, local, order_at

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


def test_a_real_worker_mails_the_report_through_a_real_smtp_server():
    redis_url = redis_url_or_skip()
    order_at(local(2026, 10, 15, 10), title="Real stack order", amount="42.00")
    # A queue of our own: nothing else on this Redis database can take the task or be taken.
    queue = f"report-test-{uuid.uuid4().hex[:8]}"
    celery = [sys.executable, "-m", "celery", "-A", "mini_crm"]
    with smtp_server() as (smtp_port, inbox), tempfile.TemporaryFile("w+") as log:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mini_crm.settings_test",
            "DATABASE_URL": postgres_url(settings.DATABASES["default"]),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": redis_url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "DEFAULT_FROM_EMAIL": "Mini CRM <crm@mail.test>",
            "REPORT_RECIPIENTS": "boss@mail.test",
            "TIME_ZONE": "Europe/Berlin",
        }
        worker = subprocess.Popen(
            [*celery, "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h", "-l", "INFO",
             "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            send_monthly_report.apply_async(kwargs={"month": "2026-10"}, queue=queue)
            # About 5 s on an idle machine (the worker's start is most of it); the ceiling is
            # for a loaded CI box.
            deadline = time.monotonic() + 60
            while not inbox.envelopes and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
            log.seek(0)
            assert inbox.envelopes, f"no mail arrived; worker log:\n{log.read()[-4000:]}"
        finally:
            # A warm shutdown: the worker finishes the task (its SENT update included) first.
            stop(worker)

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
