"""The Celery task: retries with the month pinned, no recipients logged, the beat entry."""

import logging
from smtplib import SMTPServerDisconnected

import pytest
from celery.exceptions import Retry
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from mini_crm.celery import app
from reports.models import ReportRun
from reports.services import previous_month
from reports.tasks import send_monthly_report
from reports.tests.support import OCTOBER

pytestmark = pytest.mark.django_db


def test_task_is_registered_late_acked_and_redelivered_when_the_worker_dies():
    task = app.tasks["reports.send_monthly_report"]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_task_sends_last_month_by_default():
    result = send_monthly_report.apply()

    assert result.get()["status"] == "sent"
    assert result.get()["month"] == f"{previous_month():%Y-%m}"
    assert len(mail.outbox) == 1


def test_task_twice_sends_once():
    send_monthly_report.apply(kwargs={"month": "2026-10"})
    result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert result.get()["status"] == "already_sent"
    assert len(mail.outbox) == 1


def test_smtp_failure_retries_with_the_month_pinned_and_is_not_recorded_as_sent(monkeypatch):
    retries = []
    monkeypatch.setattr(
        send_monthly_report, "retry", lambda **kw: retries.append(kw) or Retry("retry")
    )

    def refuse(self, messages):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)

    with pytest.raises(Retry):
        send_monthly_report.run()

    [retry] = retries
    assert retry["kwargs"] == {"month": f"{previous_month():%Y-%m}", "force": False}
    assert 0 <= retry["countdown"] <= 60  # backoff with jitter: the first wait is at most 1 min
    assert isinstance(retry["exc"], SMTPServerDisconnected)
    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.FAILED
    assert run.sent_at is None


def test_smtp_failure_then_success_sends_one_mail(monkeypatch):
    original = EmailBackend.send_messages
    calls = []

    def flaky(self, messages):
        calls.append(1)
        if len(calls) == 1:
            raise SMTPServerDisconnected("gone")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", flaky)

    # Eager: the retry runs at once, in-process.
    result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert result.get()["status"] == "sent"
    assert len(mail.outbox) == 1
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts) == (ReportRun.Status.SENT, 2)


def test_a_run_in_progress_makes_the_task_look_again_after_the_lease(monkeypatch, settings):
    settings.REPORT_CLAIM_LEASE_MINUTES = 15
    ReportRun.objects.create(month=OCTOBER, claimed_at=timezone.now())
    retries = []
    monkeypatch.setattr(
        send_monthly_report, "retry", lambda **kw: retries.append(kw) or Retry("retry")
    )

    with pytest.raises(Retry):
        send_monthly_report.run(month="2026-10")

    assert retries == [{"countdown": 900, "kwargs": {"month": "2026-10", "force": False}}]
    assert mail.outbox == []


def test_without_recipients_the_task_logs_an_error_and_does_not_retry(settings, caplog):
    settings.REPORT_RECIPIENTS = []
    settings.MANAGERS = []

    with caplog.at_level(logging.ERROR, logger="reports.tasks"):
        result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert result.get() == {"status": "not_configured", "month": "2026-10"}
    assert "REPORT_RECIPIENTS" in caplog.text
    assert not ReportRun.objects.exists()


def test_beat_runs_the_report_at_7_on_the_first_in_the_project_time_zone():
    entry = django_settings.CELERY_BEAT_SCHEDULE["monthly-order-report"]

    assert entry["task"] == "reports.send_monthly_report"
    assert entry["schedule"] == crontab(minute="0", hour="7", day_of_month="1")
    assert app.conf.timezone == django_settings.TIME_ZONE
    assert app.conf.beat_schedule["monthly-order-report"]["task"] in app.tasks


def test_an_attempt_ends_long_before_the_broker_would_redeliver_it(settings):
    """The soft limit interrupts a stuck attempt inside the task (FAILED, admins told); the hard
    limit kills what the soft one cannot; both end the attempt before Redis hands the unacked
    task to another worker (visibility_timeout), and no retry waits longer than the lease."""
    task = app.tasks["reports.send_monthly_report"]
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    lease = django_settings.REPORT_CLAIM_LEASE_MINUTES * 60

    assert (task.soft_time_limit, task.time_limit) == (30 * 60, 35 * 60)
    assert lease < task.soft_time_limit < task.time_limit < visibility
    assert max(600, lease) < visibility  # the longest retry countdown


def test_the_soft_time_limit_marks_the_month_failed_and_alerts_without_retrying(
    monkeypatch, settings
):
    from celery.exceptions import SoftTimeLimitExceeded

    from reports import services

    settings.ADMINS = ["ops@mail.test"]

    def stuck(*, month, out):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "monthly_report_write_csv", stuck)

    result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert isinstance(result.result, SoftTimeLimitExceeded)
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts) == (ReportRun.Status.FAILED, 1)
    [alert] = mail.outbox
    assert alert.to == ["ops@mail.test"]
    assert "SoftTimeLimitExceeded" in alert.body
