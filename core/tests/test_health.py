import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_health_is_plain_ok_without_login_database_or_session(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Set-Cookie" not in response
    assert ctx.captured_queries == []


class _BrokenDatabase:
    def cursor(self):
        from django.db import OperationalError

        raise OperationalError("connection to server at 10.0.0.5 failed")


class _BrokenCache:
    def set(self, *args, **kwargs):
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Error 111 connecting to redis:6379")


class _ForgetfulCache:
    """Accepts writes and loses them (e.g. a full Redis evicting every key)."""

    def set(self, *args, **kwargs):
        pass

    def get(self, *args, **kwargs):
        return None


@pytest.mark.django_db
def test_ready_checks_database_and_cache_without_login_or_session(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.content == b"ready"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    assert "Set-Cookie" not in response
    # 1. SELECT 1 (the database answers); the session is never loaded.
    assert len(ctx.captured_queries) == 1


@pytest.mark.django_db
def test_ready_is_503_naming_the_database_when_it_is_down(client, monkeypatch):
    monkeypatch.setattr("core.views.connection", _BrokenDatabase())
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "database: OperationalError" in body
    assert "cache" not in body
    assert "10.0.0.5" not in body  # the exception's message (hosts, users) is logged, not shown


@pytest.mark.django_db
def test_ready_is_503_naming_the_cache_when_redis_is_down(client, monkeypatch):
    monkeypatch.setattr("core.views.cache", _BrokenCache())
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "cache: ConnectionError" in response.content.decode()
    assert "database" not in response.content.decode()


@pytest.mark.django_db
def test_ready_is_503_when_the_cache_loses_what_was_written(client, monkeypatch):
    monkeypatch.setattr("core.views.cache", _ForgetfulCache())
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "cache: RuntimeError" in response.content.decode()


@pytest.mark.django_db
def test_ready_reports_every_failure_at_once(client, monkeypatch):
    monkeypatch.setattr("core.views.connection", _BrokenDatabase())
    monkeypatch.setattr("core.views.cache", _BrokenCache())
    body = client.get("/health/ready/").content.decode()
    assert "database: OperationalError" in body
    assert "cache: ConnectionError" in body


@pytest.mark.django_db
def test_ready_refuses_writes(client):
    assert client.post("/health/ready/").status_code == 405
