"""E-mailing the report, once per month: recipients, attachment, claims, --force, failures."""

import io
import zipfile
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from reports.models import ReportRun
from reports.services import ReportNotConfigured, monthly_report_send
from reports.tests.support import OCTOBER, local, order_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_down(monkeypatch):
    def refuse(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


def test_sends_the_csv_to_report_recipients_with_a_summary():
    order_at(local(2026, 10, 3), amount="40.00")

    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.status == "sent"
    [message] = mail.outbox
    assert message.to == ["boss@mail.test", "sales@mail.test"]
    assert message.subject == "Orders report October 2026"
    assert "Orders: 1" in message.body
    assert "Total: 40.00" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == "orders-2026-10.csv"
    assert mimetype == "text/csv"
    assert content.startswith("order_id,created_at,client_name")
    assert 'Content-Disposition: attachment; filename="orders-2026-10.csv"' in (
        message.message().as_string()
    )


def test_falls_back_to_managers_without_report_recipients(settings):
    settings.REPORT_RECIPIENTS = []
    settings.MANAGERS = [("Sales Manager", "manager@mail.test")]

    monthly_report_send(month=OCTOBER)

    assert mail.outbox[0].to == ["manager@mail.test"]


def test_no_recipients_is_a_clear_error_and_claims_nothing(settings):
    settings.REPORT_RECIPIENTS = []
    settings.MANAGERS = []

    with pytest.raises(ReportNotConfigured, match="REPORT_RECIPIENTS"):
        monthly_report_send(month=OCTOBER)

    assert not ReportRun.objects.exists()
    assert mail.outbox == []


def test_an_empty_month_still_sends_a_no_orders_report():
    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.row_count == 0
    assert "There were no orders this month." in mail.outbox[0].body
    assert mail.outbox[0].attachments[0][1].startswith("order_id,")


def test_running_twice_sends_one_mail_and_records_the_run():
    order_at(local(2026, 10, 3), amount="40.00")

    first = monthly_report_send(month=OCTOBER)
    second = monthly_report_send(month=OCTOBER)

    assert (first.status, second.status) == ("sent", "already_sent")
    assert len(mail.outbox) == 1
    run = ReportRun.objects.get(month=OCTOBER)
    assert run.status == ReportRun.Status.SENT
    assert run.sent_at is not None
    assert (run.row_count, str(run.total_amount)) == (1, "40.00")
    assert run.recipients == "boss@mail.test, sales@mail.test"
    assert run.claim_token is None


def test_force_sends_again_on_purpose():
    monthly_report_send(month=OCTOBER)

    outcome = monthly_report_send(month=OCTOBER, force=True)

    assert outcome.status == "sent"
    assert len(mail.outbox) == 2
    assert ReportRun.objects.get(month=OCTOBER).attempts == 2


def test_another_month_is_a_separate_run():
    monthly_report_send(month=OCTOBER)
    monthly_report_send(month=OCTOBER.replace(month=9))

    assert len(mail.outbox) == 2
    assert ReportRun.objects.count() == 2


def test_smtp_failure_is_not_recorded_as_sent_and_a_retry_sends(smtp_down, monkeypatch):
    with pytest.raises(SMTPServerDisconnected):
        monthly_report_send(month=OCTOBER)

    run = ReportRun.objects.get(month=OCTOBER)
    assert run.status == ReportRun.Status.FAILED
    assert run.sent_at is None
    assert "SMTPServerDisconnected" in run.last_error

    monkeypatch.undo()  # the mail server is back
    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.status == "sent"
    assert len(mail.outbox) == 1
    run.refresh_from_db()
    assert (run.status, run.attempts, run.last_error) == (ReportRun.Status.SENT, 2, "")


def test_a_run_in_progress_is_not_sent_twice():
    ReportRun.objects.create(month=OCTOBER, claimed_at=timezone.now(), status="PENDING")

    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.status == "in_progress"
    assert mail.outbox == []


def test_force_does_not_interrupt_a_run_in_progress():
    ReportRun.objects.create(month=OCTOBER, claimed_at=timezone.now(), status="PENDING")

    assert monthly_report_send(month=OCTOBER, force=True).status == "in_progress"
    assert mail.outbox == []


def test_a_run_whose_worker_died_is_taken_over_after_the_lease(settings):
    settings.REPORT_CLAIM_LEASE_MINUTES = 15
    stale = timezone.now() - timedelta(minutes=16)
    ReportRun.objects.create(month=OCTOBER, claimed_at=stale, status="PENDING")

    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.status == "sent"
    assert len(mail.outbox) == 1
    assert ReportRun.objects.get(month=OCTOBER).attempts == 2


def test_a_run_that_lost_its_lease_does_not_overwrite_the_new_owner(monkeypatch):
    """A slow run whose claim was taken over cannot mark the month as its own."""
    original = EmailBackend.send_messages

    def taken_over_while_sending(self, messages):
        ReportRun.objects.filter(month=OCTOBER).update(claim_token=None, attempts=99)
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", taken_over_while_sending)

    monthly_report_send(month=OCTOBER)

    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts) == (ReportRun.Status.PENDING, 99)


def test_a_large_report_is_attached_zipped(settings):
    settings.REPORT_ZIP_ABOVE_BYTES = 10
    order_at(local(2026, 10, 3))

    monthly_report_send(month=OCTOBER)

    [(filename, content, mimetype)] = mail.outbox[0].attachments
    assert (filename, mimetype) == ("orders-2026-10.zip", "application/zip")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["orders-2026-10.csv"]
        assert archive.read("orders-2026-10.csv").startswith(b"order_id,")
