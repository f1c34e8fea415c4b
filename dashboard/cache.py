"""The dashboard's figures from the cache: one entry for everyone, per language (labels) and
time zone (months), under the version of the `clients` namespace (clients/cache.py), which
every client or order change bumps after commit (clients.events.clients_changed). So a hit is
two cache reads (the version, the entry), and the first request after any write recomputes.

The entry also expires at the next month's first instant, when "this month" moves on, and
after TIMEOUT seconds at most, which only bounds memory (and what a write that sends no event,
such as raw SQL, leaves behind).
"""

from collections.abc import Callable

from django.core.cache import cache
from django.utils import timezone
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from clients.cache import NAMESPACE
from core.cache import version_get
from dashboard.selectors import dashboard_stats, month_starts

TIMEOUT = 300  # seconds
# Bump when the shape of the cached figures changes, so old entries are never read.
FORMAT = 2


def _timeout(now) -> float:
    next_month = month_starts(now, timezone.get_current_timezone(), count=1)[-1]
    return max(1, min(TIMEOUT, (next_month - now).total_seconds()))


def cached_dashboard_stats() -> dict:
    """dashboard_stats(), from the cache when it holds them for the current version."""
    version = version_get(NAMESPACE)
    if version is None:  # the cache is down: compute, store nothing
        return dashboard_stats()
    return cached(f"stats:{version}", dashboard_stats)


def cached[T](name: str, compute: Callable[[], T]) -> T:
    """`compute()` cached under `name` (which must hold the `clients` version) for the current
    language and time zone, until the next month starts or TIMEOUT at most."""
    key = f"dashboard:{FORMAT}:{name}:{get_language()}:{get_current_timezone_name()}"
    value = cache.get(key)
    if value is None:
        now = timezone.now()
        value = compute()
        cache.set(key, value, timeout=_timeout(now))
    return value
