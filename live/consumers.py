"""One consumer per stream: the client list's live events."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from live.broadcast import CLIENTS_GROUP, session_group

# Sent when the session behind the socket logs out; the page's script stops reconnecting.
CLOSE_LOGGED_OUT = 4001


class ClientsLiveConsumer(AsyncJsonWebsocketConsumer):
    """Pushes `order.created` events to logged-in users on the client list.

    Origin is checked before this runs (AllowedHostsOriginValidator in mini_crm/asgi.py); here
    anonymous sockets are refused at the handshake. The socket joins the list's group and its
    session's group, through which a logout closes it.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if user is None or not user.is_authenticated or not session_key:
            await self.close()
            return
        self.joined = [CLIENTS_GROUP, session_group(session_key)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """The stream is one-way: what the browser sends is ignored, unparsed (junk included)."""

    async def order_created(self, event: dict) -> None:
        await self.send_json(event)

    async def session_closed(self, event: dict) -> None:
        await self.close(code=CLOSE_LOGGED_OUT)
