"""The Redis backend (core/redis_cache.py): one client object, fail-soft, capped timeouts."""

import logging

import pytest
from django.conf import settings
from django.test import override_settings

from core import redis_cache
from core.redis_cache import RedisCache
from core.testing import DEAD_REDIS


def make_cache(location="redis://127.0.0.1:6379/0", **params):
    return RedisCache(location, {"OPTIONS": {"socket_timeout": 0.5}, **params})


def dead_cache(**params):
    return RedisCache(DEAD_REDIS["default"]["LOCATION"], {**DEAD_REDIS["default"], **params})


def test_one_redis_client_is_reused_for_every_call():
    # Building a redis.Redis copies its ~170 response callbacks; Django's own backend built one
    # per cache call.
    backend = make_cache()._cache
    assert backend.get_client("a") is backend.get_client("b", write=True)


def test_the_reused_client_keeps_the_configured_options():
    pool = make_cache()._cache.get_client().connection_pool
    assert pool.connection_kwargs["socket_timeout"] == 0.5


def test_a_dead_redis_answers_every_call_as_a_miss_and_logs_it(caplog):
    cache = dead_cache()
    with caplog.at_level(logging.ERROR, logger="core.redis_cache"):
        assert cache.get("k") is None
    assert "cache get failed; serving without the cache" in caplog.text
    assert cache.get("k", []) == []  # the caller's default, as DRF's throttles expect
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", 1) == 1
    assert cache.has_key("k") is False
    assert cache.add("k", 1) is False
    assert cache.set("k", 1) is None
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("k") is False
    assert cache.delete("k") is False
    assert cache.delete_many(["a"]) is None
    assert cache.incr("k") is None
    assert cache.clear() is False


def test_during_the_bypass_reads_and_sets_skip_redis_but_deletes_and_bumps_are_tried(
    monkeypatch,
):
    cache = dead_cache()
    cache.get("k")  # the error that starts the bypass
    tried = []
    for name in ("get", "set", "delete", "incr"):
        real = getattr(redis_cache.RedisCacheClient, name)
        monkeypatch.setattr(
            redis_cache.RedisCacheClient,
            name,
            lambda *args, name=name, real=real, **kwargs: (
                tried.append(name) or real(*args, **kwargs)
            ),
        )
    cache.get("k")
    cache.set("k", 1)
    assert tried == []
    cache.delete("k")  # a logout's: a copy left behind would be served again
    cache.incr("k")  # a version bump's: a lost one would leave old pages reachable
    assert tried == ["delete", "incr"]


def test_the_bypass_ends_after_bypass_seconds(monkeypatch):
    cache = dead_cache()
    cache.get("k")
    assert cache.bypass_until > 0
    now = redis_cache.time.monotonic
    monkeypatch.setattr(redis_cache.time, "monotonic", lambda: now() + redis_cache.BYPASS_SECONDS)
    tried = []
    real = redis_cache.RedisCacheClient.get
    monkeypatch.setattr(
        redis_cache.RedisCacheClient, "get", lambda *a, **k: tried.append(1) or real(*a, **k)
    )
    cache.get("k")
    assert tried == [1]


def test_max_timeout_caps_every_lifetime():
    cache = dead_cache(MAX_TIMEOUT=300)
    assert cache.get_backend_timeout(14 * 24 * 3600) == 300
    assert cache.get_backend_timeout(None) == 300  # "forever" too
    assert cache.get_backend_timeout(60) == 60
    assert dead_cache().get_backend_timeout(None) is None


def test_readiness_names_the_cache_when_redis_is_down(client):
    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "cache:" in response.text


@pytest.mark.services
def test_the_cache_round_trips_through_redis():
    cache = make_cache(settings.CACHES["default"]["LOCATION"])
    cache.set("perf-test-key", {"rows": [1, 2]}, 5)
    assert cache.get("perf-test-key") == {"rows": [1, 2]}
    cache.delete("perf-test-key")
    assert cache.get("perf-test-key") is None
