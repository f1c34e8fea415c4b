"""Beat down on the 1st, up again on the 3rd: last month's report arrives, once.

Celery beat's own scheduler (celery.beat.PersistentScheduler, the one `celery beat` runs) ticks
through the days on a controlled clock: each tick returns how long beat would sleep, and the
clock jumps by that much instead of sleeping. What is simulated:
- the clock (Django's timezone.now and Celery's app.now, which beat's crontabs read);
- the broker and the worker: a task beat fires runs at once, in-process (eager), so the
  report's claim, retries and mail are the real ones, through the locmem mail backend;
- the schedule holds the project's two report entries only (monthly-order-report and
  report-catch-up, from settings): the other apps' entries, and the backend cleanup Celery
  adds, would run their tasks too.
"""

from datetime import datetime, timedelta

import pytest
from celery.beat import PersistentScheduler
from django.conf import settings as django_settings
from django.core import mail

from mini_crm.celery import app
from reports import tasks  # noqa: F401 (registers the tasks beat fires, as a worker's start does)
from reports.models import ReportRun
from reports.tests.support import NOVEMBER, OCTOBER, local, reports_mailed

pytestmark = pytest.mark.django_db

REPORT_ENTRIES = ("monthly-order-report", "report-catch-up")


@pytest.fixture
def beat(clock, eager, installed_on, monkeypatch):
    installed_on(local(2026, 10, 20))  # September is before the CRM: never sent
    schedule = {name: django_settings.CELERY_BEAT_SCHEDULE[name] for name in REPORT_ENTRIES}
    monkeypatch.setitem(app.conf, "beat_schedule", schedule)
    fired: list[tuple[datetime, str]] = []

    class Beat(PersistentScheduler):
        def apply_async(self, entry, producer=None, advance=True, **kwargs):
            if entry.name not in REPORT_ENTRIES:
                return None  # Celery's own celery.backend_cleanup: not this test's business
            fired.append((clock.now.replace(microsecond=0), entry.name))
            return super().apply_async(entry, producer, advance, **kwargs)

    def run(schedule_file, *, start: datetime, stop: datetime) -> None:
        """Beat's life from `start` to `stop`, on `schedule_file`, as `celery beat` lives it:
        open the schedule, tick until stopped, write the schedule back on shutdown."""
        clock.set(start)
        scheduler = Beat(app=app, schedule_filename=str(schedule_file), max_interval=86400)
        try:
            for _ in range(1000):
                # Beat sleeps what tick() says, a little early by design (its drift), and its
                # own work takes a moment: 20 ms more.
                sleep = scheduler.tick() + 0.02
                if clock.now + timedelta(seconds=sleep) >= stop:
                    break
                clock.advance(sleep)
            else:
                pytest.fail("beat never reached the end of its run")
        finally:
            scheduler.close()

    run.fired = fired
    return run


def test_beat_down_on_the_1st_with_its_schedule_kept_sends_the_month_on_restart(beat, tmp_path):
    """The schedule file on a persistent volume: the restarted beat knows the 1st's run was
    missed and fires it at once; the catch-up then finds the month SENT."""
    schedule = tmp_path / "celerybeat-schedule"
    # Up through November: October's report goes out at 07:00 on 1 November.
    beat(schedule, start=local(2026, 10, 31, 22), stop=local(2026, 11, 30, 23))
    # Down on 1 and 2 December; up on the 3rd at 08:00 for three days.
    beat(schedule, start=local(2026, 12, 3, 8), stop=local(2026, 12, 6, 9))

    assert reports_mailed(mail.outbox) == [
        "Orders report October 2026",
        "Orders report November 2026",
    ]
    restarted = [name for when, name in beat.fired if when == local(2026, 12, 3, 8)]
    assert sorted(restarted) == ["monthly-order-report", "report-catch-up"]
    assert ReportRun.objects.get(month=NOVEMBER).attempts == 1


def test_beat_down_on_the_1st_with_its_schedule_lost_the_catch_up_sends_the_month(beat, tmp_path):
    """The schedule file lost with the container (it lived in /tmp): the restarted beat does
    not know the 1st's run was missed and waits for 1 January; the catch-up at 08:15 on the
    3rd sends November."""
    beat(tmp_path / "old-container", start=local(2026, 10, 31, 22), stop=local(2026, 11, 30, 23))
    beat(tmp_path / "new-container", start=local(2026, 12, 3, 8), stop=local(2026, 12, 6, 9))

    assert reports_mailed(mail.outbox) == [
        "Orders report October 2026",
        "Orders report November 2026",
    ]
    monthly = [when for when, name in beat.fired if name == "monthly-order-report"]
    assert monthly == [local(2026, 11, 1, 7)]
    november = ReportRun.objects.get(month=NOVEMBER)
    assert november.claimed_at.replace(microsecond=0) == local(2026, 12, 3, 8, 15)


def test_beat_up_all_along_sends_each_month_once_and_the_catch_up_finds_nothing(beat, tmp_path):
    beat(tmp_path / "schedule", start=local(2026, 10, 31, 22), stop=local(2026, 12, 6, 9))

    assert reports_mailed(mail.outbox) == [
        "Orders report October 2026",
        "Orders report November 2026",
    ]
    october = ReportRun.objects.get(month=OCTOBER)
    assert october.claimed_at.replace(microsecond=0) == local(2026, 11, 1, 7)
    catch_ups = [when for when, name in beat.fired if name == "report-catch-up"]
    assert len(catch_ups) == 36  # daily at 08:15, 1 November to 6 December
