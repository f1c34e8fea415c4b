"""Django's Redis cache backend, minus a client object per cache call.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every get, set or
incr. The connection pool is shared, but each `redis.Redis.__init__` copies ~170 response
callbacks into a fresh dict: profiled on the client list and the API list, that was about a
third of all the time spent talking to the cache (each page makes 2–4 cache calls). A
`redis.Redis` over a pool is thread-safe (every command borrows a connection from the pool),
so one client per pool does the same work. Everything else — pools, options such as the
socket timeouts, serializer, errors — is Django's.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
