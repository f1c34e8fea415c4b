import pytest
from django.conf import settings

from core.redis_cache import RedisCache


def make_cache(location="redis://127.0.0.1:6379/0"):
    return RedisCache(location, {"OPTIONS": {"socket_timeout": 0.5}})


def test_one_redis_client_is_reused_for_every_call():
    # Building a redis.Redis costs ~100 µs (it copies its response callbacks); Django's own
    # backend built one per cache call.
    backend = make_cache()._cache
    assert backend.get_client("a") is backend.get_client("b", write=True)


def test_the_reused_client_keeps_the_configured_options():
    pool = make_cache()._cache.get_client().connection_pool
    assert pool.connection_kwargs["socket_timeout"] == 0.5


@pytest.mark.services
def test_the_cache_round_trips_through_redis():
    cache = make_cache(settings.CACHES["default"]["LOCATION"])
    cache.set("perf-test-key", {"rows": [1, 2]}, 5)
    assert cache.get("perf-test-key") == {"rows": [1, 2]}
    cache.delete("perf-test-key")
    assert cache.get("perf-test-key") is None
