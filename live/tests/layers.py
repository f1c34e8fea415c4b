"""Channel layers that fail, for the "a failing layer never breaks the save" tests."""

import asyncio

from channels.layers import InMemoryChannelLayer


class RaisingChannelLayer(InMemoryChannelLayer):
    """Every group send fails, as when Redis refuses the connection."""

    async def group_send(self, group, message):
        raise ConnectionError("channel layer is down")


class HangingChannelLayer(InMemoryChannelLayer):
    """Every group send hangs, as when Redis stops answering."""

    async def group_send(self, group, message):
        await asyncio.sleep(30)
