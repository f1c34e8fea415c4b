"""What several apps' tests (and the bench) share: free ports, process helpers and the settings
of a Redis that is down. Test support, not app code: the image does not ship it."""

import socket

# CACHES for a Redis that is down: nothing listens on port 1, so every call is refused at once
# (short timeouts in case the network stalls instead). Use with override_settings(CACHES=...).
DEAD_REDIS = {
    "default": {
        "BACKEND": "core.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on `port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
