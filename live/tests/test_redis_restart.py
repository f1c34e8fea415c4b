"""After Redis drops its connections (a restart), the next send and the readiness check work at
once: the pooled connections reconnect (settings: retry_on_error) and the readiness check asks
Redis itself, not the fail-soft cache that skips Redis for a while after an error."""

import time

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from live import broadcast

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def drop_our_connections() -> None:
    # What a restart does to every pooled connection, without restarting the shared server:
    # the connections to this suite's database number only (another process's are not ours).
    with redis.Redis.from_url(settings.REDIS_URL) as admin:
        me, db = admin.client_id(), admin.connection_pool.connection_kwargs.get("db", 0)
        for entry in admin.client_list():
            if int(entry["db"]) == db and int(entry["id"]) != me:
                admin.client_kill_filter(_id=entry["id"])


def test_a_send_after_redis_dropped_its_connections_is_not_lost():
    assert broadcast.send_to_group("test.restart", {"type": "before"})
    drop_our_connections()
    assert broadcast.send_to_group("test.restart", {"type": "after"})


def test_ready_as_soon_as_redis_answers_again(client):
    backend = caches["default"]
    backend.bypass_until = time.monotonic() + 60  # as after an error a moment ago
    try:
        response = client.get("/health/ready/")
    finally:
        backend.bypass_until = 0.0
    assert response.status_code == 200
