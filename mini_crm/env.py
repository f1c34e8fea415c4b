"""Reading configuration from the environment: small typed helpers, no magic."""

import os
from ipaddress import IPv4Network, IPv6Network, ip_network
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list; blanks are dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str, *, reason: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set {reason}.")
    return value


SECRET_KEY_MIN_LENGTH = 50  # what `manage.py check --deploy` (security.W009) asks for
PLACEHOLDER_PREFIX = "change-me"  # how .env.example's placeholders begin


def refuse_placeholder_secrets(*, secret_key: str, urls: dict[str, str]) -> None:
    """Production's last guard against a copied .env.example: a short or placeholder secret
    key, or a URL whose password is a placeholder, is an error at start."""
    if secret_key.startswith(PLACEHOLDER_PREFIX) or len(secret_key) < SECRET_KEY_MIN_LENGTH:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be a random string of at least {SECRET_KEY_MIN_LENGTH} "
            "characters, not the .env.example placeholder: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    for name, url in urls.items():
        password = unquote(urlsplit(url).password or "")
        if password.startswith(PLACEHOLDER_PREFIX):
            raise ImproperlyConfigured(
                f"{name} carries the .env.example placeholder password ({PLACEHOLDER_PREFIX}…): "
                "set a real one."
            )


def env_proxies(name: str, *, alias: str = "") -> int | tuple[IPv4Network | IPv6Network, ...]:
    """Who may tell us a client's address: a count of proxies in front ("1"), or their
    addresses as comma-separated CIDRs or IPs ("10.0.0.0/8,127.0.0.1"). 0 or empty: nobody.
    `alias` is an older name read when `name` is not set."""
    raw = os.environ.get(name)
    if raw is None and alias:
        name, raw = alias, os.environ.get(alias)
    raw = (raw or "").strip()
    if raw.isdigit():
        return int(raw)
    try:
        return tuple(ip_network(item, strict=False) for item in env_list(name))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is neither a count of proxies (1) nor their CIDRs or IPs "
            "(10.0.0.0/8,127.0.0.1)."
        ) from None
