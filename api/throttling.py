"""Anonymous and per-user throttles whose rates are read per request.

DRF's own classes copy DEFAULT_THROTTLE_RATES once, at import; these look the rate up from the
current settings (DRF reloads them on `setting_changed`), so tests and a reconfigured process
see the rate that is configured now. Counters live in the default cache (Redis in production),
whose backend answers a miss when Redis is down (core/redis_cache.py): the API then answers
unthrottled, the error logged, instead of failing every request with a 500.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _CurrentRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_CurrentRateMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_CurrentRateMixin, throttling.UserRateThrottle):
    """Logged-in users only. DRF's own also counts anonymous callers by address, which would
    cap them at min(anon, user) and cost a second cache round trip per request."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
