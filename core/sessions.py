"""Sessions kept in the database and read from the cache: Django's `cached_db`, safe when Redis
fails. SESSION_ENGINE when the cache is Redis (settings).

Every logged-in request loads its session. From the database that is a query and a signature
check, about 0.35 ms of the web process's CPU (a sixth of a cached list page, measured with
bench/); from Redis it is one GET. The database stays the record: a session the cache lost is
read from there and cached again.

Django's own `cached_db` store lets some cache errors through: reading a session after a cache
miss and logging out both call Redis unguarded, so with Redis down every logged-in request
would fail with a 500. Here every cache call goes through core.cache's guard, so an outage
costs speed, never a page.

A logout removes the session from the database and then from the cache. If Redis misses that
delete (unreachable for that moment, then back), the cached copy would keep the logged-out
session alive; so nothing is cached for longer than CACHE_SECONDS, which bounds that window, and
a returning user costs one database read per CACHE_SECONDS.
"""

from django.contrib.sessions.backends import cached_db

from core.cache import GuardedCache

CACHE_SECONDS = 300


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = GuardedCache(max_timeout=CACHE_SECONDS)
