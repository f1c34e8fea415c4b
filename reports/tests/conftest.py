"""Every report test runs in Berlin time, mails two recipients and no managers or admins; a
controllable clock, a chosen installation date and eager Celery for the tests that need them."""

from datetime import datetime, timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from mini_crm.celery import app


@pytest.fixture(autouse=True)
def _report_settings(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.REPORT_RECIPIENTS = ["boss@mail.test", "sales@mail.test"]
    settings.MANAGERS = []
    settings.ADMINS = []


class Clock:
    """The time as Django (timezone.now) and Celery (app.now, hence beat) both read it."""

    def __init__(self, now: datetime):
        self.now = now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    monkeypatch.setattr(app, "now", lambda: clock.now.astimezone(app.timezone))
    return clock


@pytest.fixture
def installed_on(db):
    """Say when the reports app was installed (its first migration applied)."""

    def install(when: datetime) -> None:
        MigrationRecorder.Migration.objects.update_or_create(
            app="reports", name="0001_initial", defaults={"applied": when}
        )

    return install


@pytest.fixture
def eager(monkeypatch):
    """Tasks queued by a task run at once, in-process (on the real stack too, where the suite's
    Celery has a broker): a test sees what they did, and nothing reaches a worker."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)
