"""Every report test runs in Berlin time, mails two recipients and no managers."""

import pytest


@pytest.fixture(autouse=True)
def _report_settings(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.REPORT_RECIPIENTS = ["boss@mail.test", "sales@mail.test"]
    settings.MANAGERS = []
