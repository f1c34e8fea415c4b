"""Sessions read from the cache, kept in the database (core.sessions), and safe when Redis fails.

These run on the local-memory cache (one process: coherent) and on Redis in CI's second pass."""

from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from clients.tests.factories import UserFactory
from core import cache as core_cache
from core import sessions
from core.cache import GuardedCache
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # UserFactory's


@pytest.fixture(autouse=True)
def _cached_sessions(settings):
    settings.SESSION_ENGINE = "core.sessions"
    core_cache.reset_bypass()
    yield
    core_cache.reset_bypass()


def session_reads(http) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get("/clients/")
    assert response.status_code == 200, "not logged in"
    return [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_logged_in_page_reads_its_session_from_the_cache(member_client):
    assert session_reads(member_client) == []
    # ...and the database still holds it: it is the record, the cache only a copy.
    assert Session.objects.filter(pk=member_client.session.session_key).exists()


def test_a_session_the_cache_lost_is_read_from_the_database_and_cached_again(member_client):
    cache.clear()
    assert len(session_reads(member_client)) == 1
    assert session_reads(member_client) == []


def test_logout_ends_the_cached_session_too(member_client):
    session_reads(member_client)  # cached now
    old_cookie = member_client.cookies["sessionid"].value
    assert member_client.post("/accounts/logout/").status_code == 302
    member_client.cookies["sessionid"] = old_cookie  # a copy of the cookie, replayed
    assert member_client.get("/clients/").status_code == 302


def test_no_session_stays_cached_longer_than_cache_seconds(client, member):
    with mock.patch.object(cache, "set", wraps=cache.set) as cache_set:
        client.force_login(member)
    timeouts = [call.args[2] for call in cache_set.call_args_list]
    assert timeouts
    assert max(timeouts) == sessions.CACHE_SECONDS  # the session itself lives two weeks


def test_with_redis_down_login_pages_and_logout_still_work(client):
    UserFactory(username="ada")
    with override_settings(CACHES=DEAD_REDIS):
        response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
        assert response.status_code == 302, response.text
        page = client.get("/clients/")
        assert page.status_code == 200
        assert "ada" in page.text
        assert client.post("/accounts/logout/").status_code == 302
        assert client.get("/clients/").status_code == 302


def test_the_async_cache_calls_are_guarded_too():
    guarded = GuardedCache(max_timeout=sessions.CACHE_SECONDS)
    async_to_sync(guarded.aset)("k", {"a": 1}, 60)
    assert async_to_sync(guarded.aget)("k") == {"a": 1}
    async_to_sync(guarded.adelete)("k")
    assert async_to_sync(guarded.aget)("k", "missing") == "missing"
    with override_settings(CACHES=DEAD_REDIS):
        assert async_to_sync(guarded.aget)("k", "missing") == "missing"
        async_to_sync(guarded.adelete)("k")  # logged, not raised
