"""`manage.py send_monthly_report`: in-process, once per month, --force, clear errors."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.models import ReportRun
from reports.services import previous_month
from reports.tests.support import local, order_at

pytestmark = pytest.mark.django_db


def test_sends_last_month_by_default(capsys):
    call_command("send_monthly_report")

    assert f"Report for {previous_month():%Y-%m} sent: 0 orders" in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_sends_the_given_month_once(capsys):
    order_at(local(2026, 10, 5), amount="7.00")

    call_command("send_monthly_report", month="2026-10")
    call_command("send_monthly_report", month="2026-10")

    out = capsys.readouterr().out
    assert "Report for 2026-10 sent: 1 orders, total 7.00." in out
    assert "Report for 2026-10 was already sent; --force sends it again." in out
    assert len(mail.outbox) == 1


def test_force_resends():
    call_command("send_monthly_report", month="2026-10")
    call_command("send_monthly_report", month="2026-10", force=True)

    assert len(mail.outbox) == 2


@pytest.mark.parametrize("month", ["2026-13", "10-2026", "last"])
def test_a_bad_month_is_a_command_error(month):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("send_monthly_report", month=month)

    assert not ReportRun.objects.exists()


def test_a_month_not_over_yet_is_refused():
    """Recording a partial month as sent would block the real report on the 1st."""
    with pytest.raises(CommandError, match="not over yet"):
        call_command("send_monthly_report", month="2999-01")

    assert not ReportRun.objects.exists()
    assert mail.outbox == []


def test_no_recipients_is_a_command_error(settings):
    settings.REPORT_RECIPIENTS = []
    settings.MANAGERS = []

    with pytest.raises(CommandError, match="REPORT_RECIPIENTS"):
        call_command("send_monthly_report", month="2026-10")


def test_a_run_in_progress_is_a_command_error():
    ReportRun.objects.create(month=local(2026, 10, 1).date(), claimed_at=timezone.now())

    with pytest.raises(CommandError, match="being sent by another run"):
        call_command("send_monthly_report", month="2026-10")
