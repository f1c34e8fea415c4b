"""The nightly task: beat's entry names it, it calls the service, retries only an unreachable
database."""

from pathlib import Path

from celery.exceptions import Retry
from django.conf import settings
from django.db import OperationalError

from backups import tasks
from backups.services import BackupError, BackupResult
from mini_crm.celery import app


def test_beat_runs_the_backup_task_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["backup"]
    assert entry["task"] == "backups.backup"
    assert "backups.backup" in app.tasks


def test_the_task_calls_the_service_and_returns_what_it_wrote(monkeypatch):
    calls = []

    def fake_backup_create(**kwargs):
        calls.append(kwargs)
        return BackupResult(
            path=Path("/data/backups/mini-crm-20261201T010000Z.tar"),
            size=1234,
            seconds=0.42,
            manifest={},
            pruned=[Path("/data/backups/mini-crm-20261101T010000Z.tar")],
        )

    monkeypatch.setattr(tasks, "backup_create", fake_backup_create)

    result = tasks.backup.apply().get()

    assert calls == [{}]
    assert result == {
        "path": "/data/backups/mini-crm-20261201T010000Z.tar",
        "size": 1234,
        "seconds": 0.4,
        "pruned": ["/data/backups/mini-crm-20261101T010000Z.tar"],
    }


def test_an_unreachable_database_is_retried_in_ten_minutes(monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    retries = []
    monkeypatch.setattr(tasks, "backup_create", down)
    monkeypatch.setattr(tasks.backup, "retry", lambda **kw: retries.append(kw) or Retry("retry"))

    tasks.backup.apply()

    assert len(retries) == 1
    assert retries[0]["countdown"] == 600


def test_a_backup_that_cannot_be_made_fails_without_retrying(monkeypatch):
    def no_pg_dump(**kwargs):
        raise BackupError("pg_dump is not installed")

    monkeypatch.setattr(tasks, "backup_create", no_pg_dump)

    result = tasks.backup.apply()

    assert result.failed()
    assert isinstance(result.result, BackupError)
