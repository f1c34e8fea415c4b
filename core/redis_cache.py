"""Django's Redis cache backend, made fail-soft, with one client object and an optional cap on
how long anything lives. CACHES["default"] and CACHES["sessions"] when REDIS_URL is set.

**The cache is an optimisation, never a dependency.** Every call that fails on the way to Redis
(down, a timeout, a refused connection) is logged and answered as a miss: `get` returns its
default, a write is dropped. So Django's own session store, DRF's throttles and our pages run
unchanged and serve from the database instead of failing with a 500. After an error, calls
skip Redis for `BYPASS_SECONDS` in this process, so a Redis that times out (0.5 s, settings)
costs one slow request, not a timeout on every call of every request. Deletes and increments
are tried even then: a logout's delete or a version bump that was skipped would leave a stale
entry reachable. Programming errors (a value that cannot be pickled, a bad argument) are not
backend errors and still fail loudly.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every call, and each
copies ~170 response callbacks (docs/performance.md#redis-client). A `redis.Redis` over a pool
is thread-safe, so one client per pool does the same work.

`MAX_TIMEOUT` (seconds, beside `TIMEOUT` in the CACHES entry) caps every entry's lifetime: the
sessions' cache uses it (settings).
"""

import functools
import logging
import time
from collections.abc import Callable

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What the way to Redis raises when the server is down or slow.
BACKEND_ERRORS = (RedisError, OSError)
BYPASS_SECONDS = 5.0


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


def _fail_soft(method: Callable, answer: Callable, *, always: bool = False) -> Callable:
    """`method`, answering `answer(*args, **kwargs)` instead when Redis fails, and during the
    bypass that follows unless `always`."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if not always and time.monotonic() < self.bypass_until:
            return answer(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except BACKEND_ERRORS:
            self.bypass_until = time.monotonic() + BYPASS_SECONDS
            logger.exception("cache %s failed; serving without the cache", method.__name__)
            return answer(*args, **kwargs)

    return call


def _default(key, default=None, *args, **kwargs):
    return default


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self.max_timeout = params.get("MAX_TIMEOUT")
        self.bypass_until = 0.0

    def probe(self, key: str) -> bool:
        """Write `key`, read it back and delete it on Redis itself, raising its errors: for the
        readiness check (core/views.py), which must see Redis as it is now, not the misses
        this backend answers for BYPASS_SECONDS after an error."""
        client = self._cache.get_client(write=True)
        client.set(key, b"1", ex=5)
        try:
            return client.get(key) == b"1"
        finally:
            client.delete(key)

    def get_backend_timeout(self, timeout=DEFAULT_TIMEOUT):
        timeout = super().get_backend_timeout(timeout)
        if self.max_timeout is None or (timeout is not None and timeout <= self.max_timeout):
            return timeout
        return self.max_timeout

    # Reads answer a miss; writes report nothing done. get_or_set is get, then add, then get.
    get = _fail_soft(DjangoRedisCache.get, _default)
    get_many = _fail_soft(DjangoRedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _fail_soft(DjangoRedisCache.has_key, lambda *args, **kwargs: False)
    set = _fail_soft(DjangoRedisCache.set, lambda *args, **kwargs: None)
    add = _fail_soft(DjangoRedisCache.add, lambda *args, **kwargs: False)
    touch = _fail_soft(DjangoRedisCache.touch, lambda *args, **kwargs: False)
    set_many = _fail_soft(DjangoRedisCache.set_many, lambda data, *args, **kwargs: list(data))
    delete = _fail_soft(DjangoRedisCache.delete, lambda *args, **kwargs: False, always=True)
    delete_many = _fail_soft(DjangoRedisCache.delete_many, lambda *a, **k: None, always=True)
    # None, never a number: how core.cache.version_bump tells that the bump was lost.
    incr = _fail_soft(DjangoRedisCache.incr, lambda *args, **kwargs: None, always=True)
    clear = _fail_soft(DjangoRedisCache.clear, lambda: False, always=True)
