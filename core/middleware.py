"""The client's real address behind our proxy.

gunicorn sees nginx as REMOTE_ADDR, so every request would come from one address: one failed
login lockout (django-axes) and one anonymous throttle bucket (DRF) for everyone. This
middleware runs first and, only for a request whose immediate peer is a trusted proxy
(settings.TRUSTED_PROXIES), puts the client's address from X-Forwarded-For into REMOTE_ADDR.
Everything downstream, axes and DRF included, reads REMOTE_ADDR alone, so there is one rule.

X-Forwarded-For is a list each proxy appends its peer to; only the entries our own proxies
appended are true, anything to their left is whatever the client sent. Hence the right-most
entry that is not one of our proxies (or, by count, the entry that many proxies back). An
untrusted peer, a missing or malformed header: REMOTE_ADDR stays as it is.
"""

from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_address

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Networks = tuple[IPv4Network | IPv6Network, ...]


def client_address(remote_addr: str, forwarded_for: str, trusted: int | Networks) -> str:
    """The client's address: `remote_addr` unless it is a trusted proxy that said otherwise."""
    if not trusted or not forwarded_for:
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    if isinstance(trusted, int):
        # Each of the `trusted` proxies appended one entry: the first of theirs is the client.
        # Fewer entries: the request did not pass through all of them, so nothing is known.
        if len(hops) < trusted:
            return remote_addr
        candidate = hops[-trusted]
    else:
        if not _in(remote_addr, trusted):
            return remote_addr
        # From the right, past our own proxies; all of them ours: the left-most is the client.
        candidate = hops[0]
        for hop in reversed(hops):
            if not _in(hop, trusted):
                candidate = hop
                break
    return str(ip_address(candidate)) if _valid(candidate) else remote_addr


def _valid(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _in(value: str, networks: Networks) -> bool:
    try:
        address = ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in networks)


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read per request, not once at start, so that tests and override_settings apply.
        if trusted := settings.TRUSTED_PROXIES:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""),
                request.META.get("HTTP_X_FORWARDED_FOR", ""),
                trusted,
            )
        return self.get_response(request)
