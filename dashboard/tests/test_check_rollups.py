"""`manage.py check_rollups [--fix]` and its nightly task."""

import logging
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from clients.tests.factories import OrderFactory
from dashboard.models import OrderRollup
from dashboard.services import rollups_drift
from dashboard.tasks import check_rollups

pytestmark = pytest.mark.django_db


def drift() -> None:
    OrderFactory(amount=Decimal("5.00"))
    OrderRollup.objects.update(orders_count=9)  # what a write bypassing the triggers leaves


def test_no_drift_is_said(capsys):
    OrderFactory()
    call_command("check_rollups")
    assert "No drift" in capsys.readouterr().out


def test_drift_is_reported_and_fails_then_fix_rebuilds(capsys):
    drift()
    with pytest.raises(CommandError, match="1 bucket"):
        call_command("check_rollups")
    assert "orders_count stored 9, computed 1" in capsys.readouterr().out
    call_command("check_rollups", "--fix")
    assert rollups_drift() == []


def test_the_nightly_task_logs_drift_as_an_error_and_rebuilds(caplog, settings):
    drift()
    with caplog.at_level(logging.ERROR, logger="dashboard.tasks"):
        assert check_rollups.apply().get() == {"drifted": 1, "missing_triggers": []}
    assert any("orders_count stored 9" in r.getMessage() for r in caplog.records)
    assert rollups_drift() == []
    assert settings.CELERY_BEAT_SCHEDULE["check-rollups"]["task"] == check_rollups.name
