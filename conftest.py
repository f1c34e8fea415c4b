"""Personas and shared fixtures for every app's tests."""

import pytest
from django.conf import settings

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import UserFactory
from core.testing import REQUIRE_SERVICES


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test starts with an empty cache (Redis included on the real stack)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language_and_zone():
    """Each test starts in LANGUAGE_CODE and TIME_ZONE: a request activates its visitor's language
    and zone for the rest of its thread (core/preferences.py), as production's next request
    would set them afresh."""
    from django.utils import timezone, translation

    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test writes uploads to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def django_capture_on_commit_callbacks():
    """pytest-django's fixture, with the events sent by the part captured only: a test runs in
    one transaction, and the events of a transaction are batched into one callback
    (clients/events.py), which may have been registered before the capture began."""
    from contextlib import contextmanager

    from django.db import DEFAULT_DB_ALIAS
    from django.test import TestCase

    from clients.events import batch_end

    @contextmanager
    def capture(*, using=DEFAULT_DB_ALIAS, execute=False):
        batch_end(using)
        try:
            with TestCase.captureOnCommitCallbacks(using=using, execute=execute) as callbacks:
                yield callbacks
        finally:
            batch_end(using)

    return capture


@pytest.fixture
def session_queries(settings) -> int:
    """Queries a logged-in request spends reading its session: one from the database, none
    when sessions are read from Redis (cached_db, on the real stack)."""
    return int(settings.SESSION_ENGINE != "django.contrib.sessions.backends.cached_db")


@pytest.fixture
def permission_queries() -> int:
    """Queries the first request of a user spends on their permissions: the user's own, then
    their groups'. After it they come from the cache (core.auth) until a role changes."""
    return 2


@pytest.fixture
def member(db):
    """A user who may do everything in the app (the Managers role), but not enter the admin."""
    return UserFactory(username="member", roles=[MANAGERS])


@pytest.fixture
def staff(db):
    """A manager who may enter the admin too."""
    return UserFactory(username="staff", is_staff=True, roles=[MANAGERS])


@pytest.fixture
def sales(db):
    return UserFactory(username="sales", roles=[SALES])


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer", roles=[VIEWERS])


@pytest.fixture
def nobody(db):
    """Logged in, in no role: may see nothing yet."""
    return UserFactory(username="nobody")


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def pytest_collection_modifyitems(config, items):
    if REQUIRE_SERVICES:
        return
    on_real_stack = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL/Redis: set DATABASE_URL and REDIS_URL")
    for item in items:
        if "services" in item.keywords and not on_real_stack:
            item.add_marker(skip)
