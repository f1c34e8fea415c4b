"""The daily catch-up: every recent month not SENT goes out, once, and no month before the
CRM existed, nor ahead of the 1st's regular run."""

import runpy
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from mini_crm.celery import app
from reports.models import ReportRun
from reports.services import report_catch_up_months
from reports.tasks import catch_up, send_monthly_report
from reports.tests.support import NOVEMBER, OCTOBER, SEPTEMBER, local, reports_mailed

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[2] / "mini_crm" / "settings.py"
DEC_3 = local(2026, 12, 3, 10)


@pytest.fixture(autouse=True)
def _installed_long_ago(installed_on):
    installed_on(local(2026, 1, 15))


def run(month, status, **fields) -> ReportRun:
    fields.setdefault("sent_at", timezone.now() if status == "SENT" else None)
    return ReportRun.objects.create(month=month, status=status, claimed_at=timezone.now(), **fields)


def test_the_last_three_months_not_sent_are_due_oldest_first():
    assert report_catch_up_months(now=DEC_3) == [SEPTEMBER, OCTOBER, NOVEMBER]


def test_sent_months_are_skipped_failed_and_pending_ones_are_due():
    run(SEPTEMBER, "FAILED")
    run(OCTOBER, "SENT")
    run(NOVEMBER, "PENDING")

    assert report_catch_up_months(now=DEC_3) == [SEPTEMBER, NOVEMBER]


def test_report_catchup_months_sets_the_window(settings):
    settings.REPORT_CATCHUP_MONTHS = 1
    assert report_catch_up_months(now=DEC_3) == [NOVEMBER]

    settings.REPORT_CATCHUP_MONTHS = 5
    assert report_catch_up_months(now=DEC_3)[0].isoformat() == "2026-07-01"

    settings.REPORT_CATCHUP_MONTHS = 0
    assert report_catch_up_months(now=DEC_3) == []


def test_a_fresh_install_is_not_sent_the_months_before_it(installed_on):
    installed_on(local(2026, 11, 20, 14))

    # November was running when the CRM was installed: its report is due; Sep and Oct are not.
    assert report_catch_up_months(now=DEC_3) == [NOVEMBER]


def test_installed_after_the_month_ended_nothing_is_due(installed_on):
    installed_on(local(2026, 12, 2, 9))

    assert report_catch_up_months(now=DEC_3) == []


def test_a_month_that_has_a_run_is_due_even_from_before_the_install(installed_on):
    """Someone sent September by hand and it failed: it was wanted, so it is caught up."""
    installed_on(local(2026, 11, 20))
    run(SEPTEMBER, "FAILED")

    assert report_catch_up_months(now=DEC_3) == [SEPTEMBER, NOVEMBER]


def test_the_catch_up_does_not_race_ahead_of_the_regular_run_on_the_1st():
    # 06:59 on the 1st: November's regular run (07:00) has not come; October is overdue.
    assert report_catch_up_months(now=local(2026, 12, 1, 6, 59)) == [SEPTEMBER, OCTOBER]
    assert report_catch_up_months(now=local(2026, 12, 1, 7)) == [SEPTEMBER, OCTOBER, NOVEMBER]


def test_the_regular_run_time_follows_report_crontab(settings):
    settings.REPORT_CRONTAB = "30 6 2 * *"  # 06:30 on the 2nd

    assert NOVEMBER not in report_catch_up_months(now=local(2026, 12, 1, 8, 15))
    assert NOVEMBER in report_catch_up_months(now=local(2026, 12, 2, 8, 15))


def test_month_boundaries_are_the_business_time_zone(settings):
    """At 23:30 UTC on 30 November it is already 1 December in Berlin: November is over."""
    settings.REPORT_CRONTAB = "0 0 1 * *"  # midnight on the 1st, Berlin time
    utc_evening = local(2026, 12, 1, 0, 30).astimezone(timezone.UTC)
    assert utc_evening.day == 30

    assert report_catch_up_months(now=utc_evening)[-1] == NOVEMBER


# --- The task ---------------------------------------------------------------------------------


def test_the_task_is_the_one_beat_runs_daily():
    entry = app.conf.beat_schedule["report-catch-up"]
    assert entry["task"] == "reports.catch_up"
    assert app.tasks["reports.catch_up"].name == catch_up.name


def test_the_task_sends_each_unsent_month_once(clock, eager):
    clock.set(DEC_3)
    run(OCTOBER, "SENT")

    assert catch_up.apply().get() == ["2026-09", "2026-11"]
    assert reports_mailed(mail.outbox) == [
        "Orders report September 2026",
        "Orders report November 2026",
    ]
    assert set(ReportRun.objects.values_list("status", flat=True)) == {"SENT"}

    # The next day: nothing left to send.
    clock.set(local(2026, 12, 4, 8, 15))
    assert catch_up.apply().get() == []
    assert len(mail.outbox) == 2


def test_a_failed_month_is_sent_by_the_catch_up(clock, eager):
    clock.set(DEC_3)
    run(SEPTEMBER, "SENT")
    run(OCTOBER, "SENT")
    run(NOVEMBER, "FAILED", attempts=9, last_error="SMTPServerDisconnected('gone')")

    catch_up.apply()

    assert reports_mailed(mail.outbox) == ["Orders report November 2026"]
    november = ReportRun.objects.get(month=NOVEMBER)
    assert (november.status, november.attempts, november.last_error) == ("SENT", 10, "")


def test_a_regular_run_that_is_merely_late_does_not_send_the_month_again(clock, eager):
    """The 1st's 07:00 run waits in a busy queue until after the 08:15 catch-up: the catch-up
    sends November, and the late run finds it SENT."""
    for month in (SEPTEMBER, OCTOBER):
        run(month, "SENT")
    clock.set(local(2026, 12, 1, 8, 15))
    catch_up.apply()
    clock.set(local(2026, 12, 1, 9, 40))

    late = send_monthly_report.apply()  # no month: "last month", resolved now

    assert late.get()["status"] == "already_sent"
    assert reports_mailed(mail.outbox) == ["Orders report November 2026"]


def test_a_month_being_sent_is_not_sent_again_by_the_catch_up(clock, eager, monkeypatch):
    """The 1st's run is still mailing November (its claim is live) when the catch-up comes."""
    for month in (SEPTEMBER, OCTOBER):
        run(month, "SENT")
    clock.set(local(2026, 12, 1, 8, 15))
    run(NOVEMBER, "PENDING")  # claimed just now, by a run that is alive
    looked_again = []
    monkeypatch.setattr(
        send_monthly_report, "retry", lambda **kw: looked_again.append(kw) or Retry("retry")
    )

    catch_up.apply()

    assert mail.outbox == []
    assert looked_again == [{"countdown": 900, "kwargs": {"month": "2026-11", "force": False}}]


def test_negative_catchup_months_stops_the_start_with_a_clear_message(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DJANGO_DEBUG", "1")
    monkeypatch.setenv("REPORT_CATCHUP_MONTHS", "-1")

    with pytest.raises(ImproperlyConfigured, match="REPORT_CATCHUP_MONTHS at least 0"):
        runpy.run_path(str(SETTINGS))
