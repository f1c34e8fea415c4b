"""What several apps' tests share."""

# CACHES for a Redis that is down: nothing listens on port 1, so every call is refused at once
# (short timeouts in case the network stalls instead). Use with override_settings(CACHES=...).
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}
