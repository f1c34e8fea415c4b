"""A month that fails for good mails the admins, once, and says what happens next."""

import logging
import runpy
from pathlib import Path
from smtplib import SMTPServerDisconnected

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from reports import services
from reports.models import ReportRun
from reports.tasks import send_monthly_report
from reports.tests.support import OCTOBER

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[2] / "mini_crm" / "settings.py"


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = ["ops@mail.test"]
    settings.EMAIL_SUBJECT_PREFIX = "[Mini CRM] "


@pytest.fixture
def report_refused(monkeypatch):
    """The mail server refuses the report (its attachment, say) but takes other mail."""
    original = EmailBackend.send_messages

    def refuse_reports(self, messages):
        if any(message.attachments for message in messages):
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_reports)


def test_retries_run_out_the_month_stays_failed_and_the_admins_get_one_mail(report_refused):
    # Eager: the 8 retries run at once, in-process.
    result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert result.failed()
    assert isinstance(result.result, SMTPServerDisconnected)
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts) == (ReportRun.Status.FAILED, 9)
    [alert] = mail.outbox
    assert alert.to == ["ops@mail.test"]
    assert alert.subject == "[Mini CRM] Orders report for 2026-10 not sent"
    assert "Attempts: 9" in alert.body
    assert "SMTPServerDisconnected('Connection unexpectedly closed')" in alert.body
    # The catch-up's window is 3 months: October is retried daily until the end of January.
    assert "tries again every day until 31 January 2027" in alert.body
    assert "python manage.py send_monthly_report --month 2026-10" in alert.body


def test_a_retry_that_is_not_the_last_alerts_nobody(report_refused, monkeypatch):
    monkeypatch.setattr(send_monthly_report, "retry", lambda **kw: Retry("retry"))

    with pytest.raises(Retry):
        send_monthly_report.run(month="2026-10")

    assert mail.outbox == []


def test_an_error_a_retry_would_not_fix_alerts_at_once_without_retrying(monkeypatch):
    def broken(*, month, out):
        raise ValueError("a bug")

    monkeypatch.setattr(services, "monthly_report_write_csv", broken)

    result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert isinstance(result.result, ValueError)
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts) == (ReportRun.Status.FAILED, 1)
    [alert] = mail.outbox
    assert "ValueError('a bug')" in alert.body


def test_without_admins_the_managers_are_told(report_refused, settings):
    settings.ADMINS = []
    settings.MANAGERS = [("Sales Manager", "manager@mail.test")]

    send_monthly_report.apply(kwargs={"month": "2026-10"})

    [alert] = mail.outbox
    assert alert.to == ["manager@mail.test"]


def test_with_nobody_to_tell_the_failure_is_logged(report_refused, settings, caplog):
    settings.ADMINS = []

    with caplog.at_level(logging.ERROR, logger="reports.services"):
        send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert mail.outbox == []
    assert "report for 2026-10 failed for good after 9 attempts" in caplog.text
    assert "no ADMINS or MANAGERS to alert" in caplog.text


def test_when_the_alert_fails_too_the_report_error_is_what_the_task_raises(monkeypatch, caplog):
    def down(self, messages):
        raise SMTPServerDisconnected("down")

    monkeypatch.setattr(EmailBackend, "send_messages", down)

    with caplog.at_level(logging.ERROR, logger="reports.services"):
        result = send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert isinstance(result.result, SMTPServerDisconnected)
    assert "the alert to ['ops@mail.test'] failed too" in caplog.text
    assert ReportRun.objects.get(month=OCTOBER).status == ReportRun.Status.FAILED


def test_with_the_catch_up_off_the_alert_says_nothing_will_try_again(report_refused, settings):
    settings.REPORT_CATCHUP_MONTHS = 0

    send_monthly_report.apply(kwargs={"month": "2026-10"})

    assert "nothing will try again" in mail.outbox[0].body


def test_a_month_held_by_a_live_run_all_along_is_not_an_alert(caplog):
    """The last look finds the month still in progress: its owner is alive (it renews its
    claim) and will finish; that is not a failure."""
    ReportRun.objects.create(month=OCTOBER, claimed_at=timezone.now())

    result = send_monthly_report.apply(kwargs={"month": "2026-10"}, retries=8)

    assert result.get()["status"] == "in_progress"
    assert mail.outbox == []


def test_django_admins_are_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DJANGO_DEBUG", "1")
    monkeypatch.setenv("DJANGO_ADMINS", "Ops <ops@mail.test>, it@mail.test")

    assert runpy.run_path(str(SETTINGS))["ADMINS"] == ["ops@mail.test", "it@mail.test"]


def test_without_django_admins_there_are_none(monkeypatch):
    """Not the managers by default: Django mails the admins every server error's traceback."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("DJANGO_ADMINS", raising=False)
    monkeypatch.setenv("DJANGO_DEBUG", "1")

    assert runpy.run_path(str(SETTINGS))["ADMINS"] == []
