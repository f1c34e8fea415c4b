"""A cache that may fail, and version numbers that invalidate whole families of keys.

Two rules for everything cached in Mini CRM:

1. **The cache is an optimisation, never a dependency.** Every call goes through `_guarded`,
   which logs a backend error (Redis down, a timeout, a refused connection) and answers as if
   the key were missing, so a page is served uncached rather than failing with a 500. After an
   error, reads skip the cache for `BYPASS_SECONDS` in this process, so a Redis that times out
   (0.5 s, see settings) costs one slow request, not three timeouts on every request.
2. **Invalidate by version, never by deleting keys.** A family of keys (e.g. every page of the
   client list) embeds a version number kept in the cache itself, shared by all processes.
   Bumping it (`version_bump`) makes every old key unreachable at once; the old entries simply
   expire. Nothing needs to know which keys exist.

A version that is missing (never set, or evicted under memory pressure) starts at the current
time in nanoseconds rather than at 1, so a recreated version never equals an old one and can
never resurrect stale entries still in the cache.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache

logger = logging.getLogger(__name__)

try:  # the Redis backend raises redis-py's errors; other backends raise OSError at most
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a runtime dependency
    RedisError = OSError

# What a cache backend raises when its server is down or slow. Programming errors (a key that
# cannot be pickled, a bad argument) are not in this list: they must still fail loudly.
CACHE_BACKEND_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

BYPASS_SECONDS = 5.0
_bypass_until = 0.0


def _guarded[T](operation: str, call: Callable[[], T], default: T, *, write: bool = False) -> T:
    """Run one cache call; on a backend error log it and return `default`.

    Reads are skipped while the bypass is on; writes (version bumps above all) are always tried,
    since a bump lost to a short outage would leave old pages reachable until they expire.
    """
    global _bypass_until
    if not write and time.monotonic() < _bypass_until:
        return default
    try:
        return call()
    except CACHE_BACKEND_ERRORS:
        _bypass_until = time.monotonic() + BYPASS_SECONDS
        logger.exception("cache %s failed; serving without the cache", operation)
        return default


def reset_bypass() -> None:
    """Forget an earlier backend error (for tests, and after fixing the cache)."""
    global _bypass_until
    _bypass_until = 0.0


def cache_get(key: str) -> Any:
    """The cached value, or None when missing or when the cache is unavailable."""
    return _guarded("get", lambda: cache.get(key), None)


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    """The cached values of those `keys` that are cached, in one round trip; {} when the
    cache is unavailable."""
    return _guarded("get", lambda: cache.get_many(keys), {})


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    _guarded("set", lambda: cache.set(key, value, timeout), None)


class GuardedCache:
    """The few cache methods that Django's and DRF's own code calls (the session store, the
    throttles), through the guard: a failed get is a miss, a failed write is logged and dropped.
    Like cache_set, a set is skipped while reads bypass the cache; a delete is always tried,
    since a copy it failed to remove (a logged-out session) would be served again.

    `max_timeout` caps how long anything set through it lives, in seconds (None: no cap).
    Values are never None (Django and DRF store dicts and lists), so None means missing."""

    def __init__(self, *, max_timeout: float | None = None):
        self.max_timeout = max_timeout

    def get(self, key: str, default: Any = None) -> Any:
        value = cache_get(key)
        return default if value is None else value

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        if self.max_timeout is not None:
            timeout = self.max_timeout if timeout is None else min(timeout, self.max_timeout)
        cache_set(key, value, timeout)

    def delete(self, key: str) -> None:
        _guarded("delete", lambda: cache.delete(key), None, write=True)

    def __contains__(self, key: str) -> bool:
        return cache_get(key) is not None

    # The async forms Django's stores call from async code (the same guard, in a thread).
    async def aget(self, key: str, default: Any = None) -> Any:
        return await sync_to_async(self.get)(key, default)

    async def aset(self, key: str, value: Any, timeout: float | None = None) -> None:
        await sync_to_async(self.set)(key, value, timeout)

    async def adelete(self, key: str) -> None:
        await sync_to_async(self.delete)(key)


def _version_key(namespace: str) -> str:
    return f"{namespace}:version"


def version_get(namespace: str) -> int | None:
    """The current version of `namespace`, creating it when missing; None when the cache is
    unavailable (the caller then bypasses the cache instead of using an unversioned key)."""
    key = _version_key(namespace)
    # get_or_set is get, then add (atomic SET NX on Redis), then get: two processes that find
    # the version missing agree on one value.
    return _guarded("version get", lambda: cache.get_or_set(key, time.time_ns, timeout=None), None)


def versions_get(*namespaces: str) -> list[int | None]:
    """version_get() of each namespace, in one round trip when they all exist."""
    keys = [_version_key(namespace) for namespace in namespaces]
    found = _guarded("version get", lambda: cache.get_many(keys), None)
    if found is None:
        return [None] * len(keys)
    return [
        found[key] if key in found else version_get(namespace)
        for key, namespace in zip(keys, namespaces, strict=True)
    ]


def version_bump(namespace: str) -> None:
    """Make every key built from the current version of `namespace` unreachable, for every
    process that shares the cache."""
    key = _version_key(namespace)

    def bump() -> None:
        try:
            cache.incr(key)  # INCR is atomic on Redis: concurrent bumps are never lost
        except ValueError:
            # Missing: nobody holds a version, so any fresh value will do. add() so that of
            # two processes racing here one wins and neither overwrites a later increment.
            cache.add(key, time.time_ns(), timeout=None)

    _guarded("version bump", bump, None, write=True)
