"""The dashboard's server time: its requests sent one at a time (no queueing behind other
requests, unlike wrk's latency), from the cache and with the cache emptied before each.

Uncached: before each timed request the bench flushes the server's Redis database (the cache
the dashboard would read its figures from), then sends one request to the bare view behind the
login, which puts the session back in the cache; so the timed request pays for computing the
dashboard, not for reloading the session. With a local-memory cache (no --redis-url) the bench
cannot reach the workers' memory: the uncached time is n/a.
"""

import statistics
import time
from dataclasses import dataclass, field

from bench.database import flush_redis
from bench.server import get

# (key, path, JSON?) of the pages timed one request at a time.
TIMED = [("dashboard", "/dashboard/", False), ("stats", "/api/stats/", True)]


@dataclass
class ServerTime:
    path: str
    uncached_ms: list[float] = field(default_factory=list)
    cached_ms: list[float] = field(default_factory=list)
    bad: int = 0  # answers other than 200 while timed
    note: str = ""  # why the uncached time is missing

    @property
    def uncached(self) -> float | None:
        return statistics.median(self.uncached_ms) if self.uncached_ms else None

    @property
    def cached(self) -> float | None:
        return statistics.median(self.cached_ms) if self.cached_ms else None


def _timed_get(base: str, path: str, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    status, _ = get(base, path, headers)
    return status, (time.perf_counter() - started) * 1000


def time_page(
    base: str, path: str, headers: dict[str, str], *, redis_url: str, uncached: int, cached: int
) -> ServerTime | str:
    """`uncached` requests each after an emptied cache, then `cached` requests in a row (after
    one that fills the cache); "n/a (<status>)" when the page does not answer 200."""
    status, _ = get(base, path, headers)
    if status != 200:
        return f"n/a ({status})"
    result = ServerTime(path)
    if redis_url:
        for _ in range(uncached):
            flush_redis(redis_url)
            get(base, "/bench/bare-login/", headers)  # the session back into the cache
            status, ms = _timed_get(base, path, headers)
            result.bad += status != 200
            result.uncached_ms.append(ms)
    else:
        result.note = "n/a (local-memory cache: cannot be emptied from outside)"
    get(base, path, headers)
    for _ in range(cached):
        status, ms = _timed_get(base, path, headers)
        result.bad += status != 200
        result.cached_ms.append(ms)
    return result
