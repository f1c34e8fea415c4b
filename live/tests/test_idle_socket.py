"""An open page with nothing to hear keeps its socket (found with the imports' progress page:
every live page's socket closed after 5 idle seconds)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

pytestmark = pytest.mark.services


async def test_a_receive_waits_past_redis_pys_default_socket_timeout():
    # channels_redis blocks in BZPOPMIN for 5 s at a time, redis-py's default socket timeout;
    # the two raced and redis.exceptions.TimeoutError closed the consumer. 7 s of CI.
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    channel = await layer.new_channel()

    with pytest.raises(TimeoutError):  # asyncio's own: nothing came, nothing broke
        await asyncio.wait_for(layer.receive(channel), timeout=7)
