"""Version numbers that invalidate whole families of cache keys.

**Invalidate by version, never by deleting keys.** A family of keys (e.g. every page of the
client list) embeds a version number kept in the cache itself, shared by all processes.
Bumping it (`version_bump`) makes every old key unreachable at once; the old entries simply
expire. Nothing needs to know which keys exist.

A version that is missing (never set, or evicted under memory pressure) starts at the current
time in nanoseconds rather than at 1, so a recreated version never equals an old one and can
never resurrect stale entries still in the cache.

The cache may fail: the Redis backend answers a miss instead (core/redis_cache.py), so a version
read while Redis is down is None and the caller goes to the database.
"""

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def _version_key(namespace: str) -> str:
    return f"{namespace}:version"


def version_get(namespace: str) -> int | None:
    """The current version of `namespace`, creating it when missing; None when the cache is
    unavailable (the caller then bypasses the cache instead of using an unversioned key)."""
    key = _version_key(namespace)
    version = cache.get(key)
    if version is None:
        # add is SET NX on Redis: of two processes that find the version missing, one sets it
        # and both read that one back.
        cache.add(key, time.time_ns(), timeout=None)
        version = cache.get(key)
    return version


def versions_get(*namespaces: str) -> list[int | None]:
    """version_get() of each namespace, in one round trip when they all exist."""
    keys = [_version_key(namespace) for namespace in namespaces]
    found = cache.get_many(keys)
    return [
        found[key] if key in found else version_get(namespace)
        for key, namespace in zip(keys, namespaces, strict=True)
    ]


def version_bump(namespace: str) -> None:
    """Make every key built from the current version of `namespace` unreachable, for every
    process that shares the cache."""
    key = _version_key(namespace)
    try:
        bumped = cache.incr(key)  # INCR is atomic on Redis: concurrent bumps are never lost
    except ValueError:
        # Missing: nobody holds a version, so any fresh value will do. add() so that of two
        # processes racing here one wins and neither overwrites a later increment.
        cache.add(key, time.time_ns(), timeout=None)
        return
    if bumped is None:  # the Redis backend could not reach Redis (logged there)
        logger.error(
            "cache version bump failed for %r: its entries stay until they expire", namespace
        )
