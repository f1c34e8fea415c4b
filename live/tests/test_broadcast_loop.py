"""Sends over Redis run on one event loop per process, so they share a connection pool."""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from live import broadcast

pytestmark = pytest.mark.services


def test_sends_over_redis_reach_the_group_from_one_loop_per_process():
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test.loop", channel)
    try:
        assert broadcast.send_to_group("test.loop", {"type": "first"})
        loop = broadcast._loop()
        assert broadcast.send_to_group("test.loop", {"type": "second"})
        assert broadcast._loop() is loop  # the same loop, its pool kept: no new connection
        received = [async_to_sync(layer.receive)(channel)["type"] for _ in range(2)]
        assert received == ["first", "second"]
    finally:
        async_to_sync(layer.group_discard)("test.loop", channel)


def test_a_forked_process_starts_its_own_loop(monkeypatch):
    loop = broadcast._loop()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as a gunicorn worker after the fork
    assert broadcast._loop() is not loop
