"""The Celery app's configuration: eager without Redis, the schedule from the environment, and
no hang when the broker is down."""

import runpy
import time
from pathlib import Path

import pytest
from celery import Celery
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu.exceptions import OperationalError

from mini_crm.celery import app as celery_app

SETTINGS = Path(__file__).resolve().parents[2] / "mini_crm" / "settings.py"


def load_settings(monkeypatch, **env) -> dict:
    """The production settings module evaluated afresh with `env` (not the test settings)."""
    for name in ("REDIS_URL", "REPORT_CRONTAB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_DEBUG", "1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_without_redis_tasks_run_eagerly_so_make_run_needs_no_broker(monkeypatch):
    config = load_settings(monkeypatch)

    assert config["CELERY_TASK_ALWAYS_EAGER"] is True
    assert config["CELERY_BROKER_URL"] == "memory://"
    assert config["CELERY_BEAT_SCHEDULE"]["monthly-order-report"]["schedule"] == crontab(
        minute="0", hour="7", day_of_month="1"
    )
    assert config["CELERY_TIMEZONE"] == config["TIME_ZONE"]


def test_with_redis_tasks_go_to_the_broker_and_the_schedule_can_be_overridden(monkeypatch):
    config = load_settings(
        monkeypatch, REDIS_URL="redis://127.0.0.1:6379/3", REPORT_CRONTAB="30 6 2 * *"
    )

    assert config["CELERY_TASK_ALWAYS_EAGER"] is False
    assert config["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert config["CELERY_RESULT_BACKEND"] == "redis://127.0.0.1:6379/3"
    assert config["CELERY_BEAT_SCHEDULE"]["monthly-order-report"]["schedule"] == crontab(
        minute="30", hour="6", day_of_month="2"
    )


def test_a_bad_report_crontab_stops_the_start_with_a_clear_message(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="REPORT_CRONTAB='at seven' is not a crontab"):
        load_settings(monkeypatch, REPORT_CRONTAB="at seven")


def test_the_project_app_reads_the_celery_settings():
    assert celery_app.conf.task_serializer == "json"
    assert celery_app.conf.accept_content == ["json"]
    assert celery_app.conf.task_publish_retry_policy["max_retries"] == 1


def test_a_dead_broker_does_not_hang_whoever_queues(settings):
    """Queueing against a closed port gives up within a second or two (the settings' connect
    timeout and one quick publish retry) with the broker's error, instead of waiting for it."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A fresh app reads the settings above: the project's app has its connection pool cached.
    dead = Celery("dead-broker", set_as_current=False)
    dead.config_from_object("django.conf:settings", namespace="CELERY")
    # In a running site the Redis client is already imported (the cache uses it); importing it
    # here keeps its ~1 s first import out of the measurement.
    import kombu.transport.redis  # noqa: F401

    started = time.monotonic()
    with pytest.raises(OperationalError):
        dead.signature("reports.send_monthly_report", kwargs={"month": "2026-10"}).apply_async()
    elapsed = time.monotonic() - started

    assert elapsed < 2, f"queueing against a dead broker took {elapsed:.1f}s"
