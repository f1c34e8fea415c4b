"""A live run keeps its month: its claim is renewed while it works, so a run longer than the
lease (a big month, a slow mail server) is not taken over and mailed twice; and a run whose
claim was taken anyway neither sends nor marks the month."""

import asyncio
import contextlib
import threading
import time
import uuid
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import connection
from django.utils import timezone

from core.testing import free_port
from reports import services
from reports.models import ReportRun
from reports.services import monthly_report_send
from reports.tests.support import OCTOBER, local, order_at

LEASE_SECONDS = 2


@pytest.fixture
def short_lease(settings):
    """A 2 s lease, renewed every 0.67 s: the 15 minutes of production, shrunk."""
    settings.REPORT_CLAIM_LEASE_MINUTES = LEASE_SECONDS / 60


class SlowInbox:
    """An SMTP server's handler that takes `delay` seconds to accept each message's data."""

    def __init__(self, delay: float):
        self.delay = delay
        self.envelopes: list = []
        self.receiving = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 OK"


@contextlib.contextmanager
def slow_smtp_server(settings, *, delay: float):
    inbox = SlowInbox(delay)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 30},
        }
    }
    try:
        yield inbox
    finally:
        controller.stop()


def in_thread(outcomes: list):
    def send() -> None:
        try:
            outcomes.append(monthly_report_send(month=OCTOBER).status)
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_an_smtp_server_slower_than_the_lease_gets_one_mail(settings, short_lease):
    """The first run's SMTP server takes 5 s to accept the report, more than twice the lease.
    A second run starts while it waits, past the lease, as the task's retry or beat firing
    again would: the first run's renewals keep its claim, so the second backs off
    ("in_progress") and one message arrives. Without the renewals the second run would take
    the month over and the server would get two."""
    order_at(local(2026, 10, 3), amount="40.00")
    first: list = []
    with slow_smtp_server(settings, delay=2.5 * LEASE_SECONDS) as inbox:
        thread = in_thread(first)
        assert inbox.receiving.wait(10), "the first run never reached the SMTP server"
        time.sleep(LEASE_SECONDS * 1.25)  # the first claim is older than a lease by now

        second = monthly_report_send(month=OCTOBER)

        thread.join(30)

    assert second.status == "in_progress"
    assert first == ["sent"]
    assert len(inbox.envelopes) == 1
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.attempts, run.claim_token) == (ReportRun.Status.SENT, 1, None)


@pytest.mark.django_db(transaction=True)
def test_the_renewal_moves_only_this_runs_claim_and_stops_with_the_run(short_lease, monkeypatch):
    settings_lease = timedelta(seconds=LEASE_SECONDS)
    old = timezone.now() - settings_lease / 2
    other = ReportRun.objects.create(month=OCTOBER.replace(month=9), claimed_at=old)
    seen = []
    original = services.monthly_report_write_csv

    def slow_build(*, month, out):
        seen.append(ReportRun.objects.get(month=month).claimed_at)
        time.sleep(LEASE_SECONDS * 0.6)  # a renewal (every 0.67 s) happens meanwhile
        seen.append(ReportRun.objects.get(month=month).claimed_at)
        return original(month=month, out=out)

    monkeypatch.setattr(services, "monthly_report_write_csv", slow_build)

    monthly_report_send(month=OCTOBER)

    claimed, renewed = seen
    assert renewed > claimed  # renewed while the run was building
    other.refresh_from_db()
    assert other.claimed_at == old  # another month's claim is not ours to renew
    assert len(mail.outbox) == 1
    alive = [thread.name for thread in threading.enumerate() if thread.name.startswith("report")]
    assert alive == []


@pytest.mark.django_db
def test_a_run_whose_claim_was_taken_over_before_sending_does_not_send(monkeypatch):
    """Its renewals stopped for a whole lease (the database was unreachable, say) and another
    run took the month: it checks its claim before mailing, and backs off."""
    original = services.monthly_report_write_csv
    thief = uuid.uuid4()

    def taken_over_while_building(*, month, out):
        summary = original(month=month, out=out)
        ReportRun.objects.filter(month=month).update(claim_token=thief, attempts=2)
        return summary

    monkeypatch.setattr(services, "monthly_report_write_csv", taken_over_while_building)

    outcome = monthly_report_send(month=OCTOBER)

    assert outcome.status == "in_progress"
    assert mail.outbox == []
    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.claim_token, run.attempts, run.last_error) == (
        ReportRun.Status.PENDING,
        thief,
        2,
        "",
    )


@pytest.mark.django_db
def test_a_run_that_lost_its_claim_while_sending_does_not_mark_sent(monkeypatch):
    """Taken over in the middle of the SMTP conversation: its mail is out (that cannot be
    undone), but the month stays the new owner's, not SENT by the old run."""
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages
    thief = uuid.uuid4()

    def taken_over_while_sending(self, messages):
        ReportRun.objects.filter(month=OCTOBER).update(claim_token=thief, attempts=2)
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", taken_over_while_sending)

    monthly_report_send(month=OCTOBER)

    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.claim_token, run.sent_at) == (ReportRun.Status.PENDING, thief, None)


@pytest.mark.django_db
def test_a_failure_after_a_takeover_does_not_mark_the_new_owners_run_failed(monkeypatch):
    from smtplib import SMTPServerDisconnected

    from django.core.mail.backends.locmem import EmailBackend

    thief = uuid.uuid4()

    def taken_over_then_refused(self, messages):
        ReportRun.objects.filter(month=OCTOBER).update(claim_token=thief)
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", taken_over_then_refused)

    with pytest.raises(SMTPServerDisconnected):
        monthly_report_send(month=OCTOBER)

    run = ReportRun.objects.get(month=OCTOBER)
    assert (run.status, run.claim_token) == (ReportRun.Status.PENDING, thief)
