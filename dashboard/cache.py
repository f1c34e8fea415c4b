"""The dashboard's figures from the cache: one entry for everyone, per language (labels) and
time zone (months), under the version of the `clients` namespace (clients/cache.py), which
every client or order change bumps after commit (clients.events.clients_changed). So a hit is
two cache reads (the version, the entry), and the first request after any write recomputes.

The entry also expires at the next month's first instant, when "this month" moves on, and
after TIMEOUT seconds at most, which only bounds memory (and what a write that sends no event,
such as raw SQL, leaves behind).
"""

from django.core.cache import cache
from django.utils import timezone
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from clients.cache import NAMESPACE
from core.cache import version_get
from dashboard.selectors import dashboard_stats, month_starts

TIMEOUT = 300  # seconds
# Bump when the shape of the cached figures changes, so old entries are never read.
FORMAT = 1


def cached_dashboard_stats() -> dict:
    """dashboard_stats(), from the cache when it holds them for the current version."""
    version = version_get(NAMESPACE)
    if version is None:  # the cache is down: compute, store nothing
        return dashboard_stats()
    key = f"dashboard:stats:{FORMAT}:{version}:{get_language()}:{get_current_timezone_name()}"
    stats = cache.get(key)
    if stats is None:
        now = timezone.now()
        stats = dashboard_stats(now=now)
        next_month = month_starts(now, timezone.get_current_timezone(), count=1)[-1]
        cache.set(key, stats, timeout=max(1, min(TIMEOUT, (next_month - now).total_seconds())))
    return stats
