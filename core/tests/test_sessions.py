"""Sessions read from the cache, kept in the database (Django's cached_db), and safe when Redis
fails (the fail-soft backend, core/redis_cache.py).

On the real stack the settings' own "sessions" cache is used; on the embedded default these run
on the local-memory cache (one process: coherent)."""

import pytest
import redis
from asgiref.sync import async_to_sync
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from clients.permissions import SALES
from clients.tests.factories import UserFactory
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # UserFactory's
CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.fixture(autouse=True)
def _cached_sessions(settings):
    if settings.SESSION_ENGINE != CACHED_DB:  # the embedded default keeps them in the database
        settings.SESSION_ENGINE = CACHED_DB
        settings.SESSION_CACHE_ALIAS = "default"


def session_reads(http) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get("/clients/")
    assert response.status_code == 200, "not logged in"
    return [q["sql"] for q in ctx.captured_queries if "django_session" in q["sql"]]


def test_a_logged_in_page_reads_its_session_from_the_cache(member_client):
    assert session_reads(member_client) == []
    # ...and the database still holds it: it is the record, the cache only a copy.
    assert Session.objects.filter(pk=member_client.session.session_key).exists()


def test_a_session_the_cache_lost_is_read_from_the_database_and_cached_again(
    member_client, settings
):
    caches[settings.SESSION_CACHE_ALIAS].clear()
    assert len(session_reads(member_client)) == 1
    assert session_reads(member_client) == []


def test_logout_ends_the_cached_session_too(member_client):
    session_reads(member_client)  # cached now
    old_cookie = member_client.cookies["sessionid"].value
    assert member_client.post("/accounts/logout/").status_code == 302
    member_client.cookies["sessionid"] = old_cookie  # a copy of the cookie, replayed
    assert member_client.get("/clients/").status_code == 302


@pytest.mark.services
def test_no_session_stays_cached_longer_than_five_minutes(client, member, settings):
    client.force_login(member)
    sessions = caches["sessions"]
    key = sessions.make_key(KEY_PREFIX + client.session.session_key)
    ttl = redis.Redis.from_url(settings.CACHES["sessions"]["LOCATION"]).ttl(key)
    # The session itself lives two weeks (SESSION_COOKIE_AGE); its cached copy 5 minutes.
    assert settings.SESSION_COOKIE_AGE > 300
    assert 0 < ttl <= 300


def test_with_redis_down_login_pages_and_logout_still_work(client):
    UserFactory(username="ada", roles=[SALES])
    with override_settings(CACHES=DEAD_REDIS):
        response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
        assert response.status_code == 302, response.text
        page = client.get("/clients/")
        assert page.status_code == 200
        assert "ada" in page.text
        assert client.post("/accounts/logout/").status_code == 302
        assert client.get("/clients/").status_code == 302


def test_the_async_cache_calls_fail_soft_too(settings):
    live = caches[settings.SESSION_CACHE_ALIAS]
    async_to_sync(live.aset)("k", {"a": 1}, 60)
    assert async_to_sync(live.aget)("k") == {"a": 1}
    async_to_sync(live.adelete)("k")
    assert async_to_sync(live.aget)("k", "missing") == "missing"
    with override_settings(CACHES=DEAD_REDIS):
        dead = caches["sessions"]
        assert async_to_sync(dead.aget)("k", "missing") == "missing"
        async_to_sync(dead.aset)("k", {"a": 1}, 60)  # dropped, not raised
        async_to_sync(dead.adelete)("k")  # logged, not raised
