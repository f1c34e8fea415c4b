"""One consumer per stream: the client list's live events, the orders board's, and an import's
progress."""

import asyncio
import logging
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends import cached_db, db

from clients.permissions import IMPORT_CLIENT, VIEW_CLIENT, VIEW_ORDER
from live.broadcast import (
    CLIENTS_GROUP,
    ORDERS_GROUP,
    client_group,
    import_group,
    session_group,
)

logger = logging.getLogger(__name__)

# On the next two close codes the page's script (live/static/live/clients-live.js) stops
# reconnecting, since a new handshake would be refused anyway.
# The session behind the socket logged out (pushed at once through the session's group).
CLOSE_LOGGED_OUT = 4001
# Found by the periodic re-check: the session expired or was deleted, its password changed,
# the user was deactivated or lost the last role that lets them view orders.
CLOSE_NOT_ALLOWED = 4003
# The re-check itself failed (database down): close as a server error, so the script
# reconnects later and the handshake decides afresh. Failing open would keep pushing orders to
# a socket nobody checks any more.
CLOSE_RECHECK_FAILED = 1011

# Seconds between two re-checks of an open socket's session and user: a socket whose session
# ended by any means other than a logout closes within this time (plus one check's queries).
RECHECK_SECONDS = 30.0
# Names the re-check task, so a leaked one is easy to spot (the tests look for it).
RECHECK_TASK_NAME = "live.recheck"


class _SessionSnapshot(dict):
    """Session data as read for one re-check, handed to Django's `get_user` so the rule is
    Django's own (backend, active user, session auth hash with SECRET_KEY_FALLBACKS) without
    its side effects on the browser's real session: the flush of a stale session and the key
    rotation after a secret-key change are for the next HTTP request to do. A rotated key done
    here would never reach the browser and would log it out."""

    def flush(self) -> None:
        self.clear()

    def cycle_key(self) -> None:
        pass


def _session_data(session_key: str) -> dict:
    """The session's data as stored now: empty when it expired or was deleted.

    cached_db sessions are read from the database, their record: the cached copy of a row
    deleted behind the cache's back (admin, a script) lives on for the cache's timeout."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store_class, cached_db.SessionStore):
        store_class = db.SessionStore
    return store_class(session_key).load()


def may_watch(user, permissions: tuple[str, ...] = (VIEW_ORDER,)) -> bool:
    """Who may hold a live socket: whoever holds the stream's `permissions` (by default, whoever
    may see orders: the events carry them)."""
    return bool(user and user.is_authenticated and user.is_active and user.has_perms(permissions))


@database_sync_to_async
def _may_watch(user, permissions: tuple[str, ...]) -> bool:
    return may_watch(user, permissions)


@database_sync_to_async
def _session_still_allows(session_key: str, user_id, permissions: tuple[str, ...]) -> bool:
    """Whether the session still logs in the same user, who may still watch: reloaded from the
    session store and the database, nothing taken from the handshake's copies."""
    user = get_user(SimpleNamespace(session=_SessionSnapshot(_session_data(session_key))))
    return user.pk == user_id and may_watch(user, permissions)


class ClientsLiveConsumer(AsyncJsonWebsocketConsumer):
    """Pushes `order.created` events to users who may view orders, on the client list.

    Origin is checked before this runs (AllowedHostsOriginValidator in mini_crm/asgi.py); here
    anonymous users and users without `view_order` are refused at the handshake. The socket
    joins the list's group and its session's group, through which a logout closes it at once.
    Every other end of the session (expiry, deletion, password change, deactivation, lost role)
    sends no event, so a re-check every RECHECK_SECONDS finds it and closes the socket.
    """

    recheck: asyncio.Task | None = None
    # The stream's group, and what a user needs to watch it (at the door and every re-check).
    group = CLIENTS_GROUP
    permissions: tuple[str, ...] = (VIEW_ORDER,)

    async def __call__(self, scope, receive, send) -> None:
        # disconnect() is not called when the server cancels the application (shutdown, a
        # client gone without a close frame, the test communicator): the re-check must stop
        # however the consumer ends.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._stop_recheck()

    async def connect(self) -> None:
        user = self.scope.get("user")
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if not session_key or not await _may_watch(user, self.permissions):
            await self.close()
            return
        self.session_key, self.user_id = session_key, user.pk
        self.joined = [self.group, session_group(session_key)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.recheck = asyncio.create_task(self._recheck_forever(), name=RECHECK_TASK_NAME)

    async def disconnect(self, code) -> None:
        self._stop_recheck()
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """The stream is one-way: what the browser sends is ignored, unparsed (junk included)."""

    async def order_created(self, event: dict) -> None:
        await self.send_json(event)

    async def session_closed(self, event: dict) -> None:
        self._stop_recheck()
        await self.close(code=CLOSE_LOGGED_OUT)

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                allowed = await _session_still_allows(
                    self.session_key, self.user_id, self.permissions
                )
            except Exception:
                logger.exception("live: could not re-check a socket's session; closing it")
                await self.close(code=CLOSE_RECHECK_FAILED)
                return
            if not allowed:
                await self.close(code=CLOSE_NOT_ALLOWED)
                return

    def _stop_recheck(self) -> None:
        if self.recheck is not None:
            self.recheck.cancel()
        self.recheck = None


class OrdersLiveConsumer(ClientsLiveConsumer):
    """Pushes the board's events (`order.changed`, `orders.changed`) to users who may see its
    cards: orders and the clients they name, like the board page itself. The door, the logout
    and the periodic re-check are the client list's (ClientsLiveConsumer)."""

    group = ORDERS_GROUP
    permissions = (VIEW_CLIENT, VIEW_ORDER)

    async def order_created(self, event: dict) -> None:
        """Not sent to this group; a board learns of new orders from `order.changed`."""

    async def order_changed(self, event: dict) -> None:
        await self.send_json(event)

    async def orders_changed(self, event: dict) -> None:
        await self.send_json(event)


class ImportProgressConsumer(ClientsLiveConsumer):
    """Pushes one import's progress (`import.progress`, imports/progress.py) to its page, at
    /ws/imports/<pk>/, for users who may import. The door, the logout and the periodic re-check
    are the client list's (ClientsLiveConsumer).

    The socket only forwards: whether the import still runs is the page's to ask
    (/imports/<pk>/progress/) when the socket opens, since the work may have ended before the
    socket joined the group."""

    permissions = (IMPORT_CLIENT,)

    async def connect(self) -> None:
        # The group is this import's, from the route (`<int:pk>`, so never a foreign name).
        self.group = import_group(self.scope["url_route"]["kwargs"]["pk"])
        await super().connect()

    async def order_created(self, event: dict) -> None:
        """Not sent to this group."""

    async def import_progress(self, event: dict) -> None:
        await self.send_json(event)


class ClientTimelineConsumer(ClientsLiveConsumer):
    """Pushes `timeline.changed` (a note or task added, changed or deleted) to the open pages
    of one client, at /ws/clients/<pk>/, for users who may see the client page. The event names
    the item only; the page fetches it with its user's rights. The door, the logout and the
    periodic re-check are the client list's (ClientsLiveConsumer)."""

    permissions = (VIEW_CLIENT, VIEW_ORDER)

    async def connect(self) -> None:
        self.group = client_group(self.scope["url_route"]["kwargs"]["pk"])
        await super().connect()

    async def order_created(self, event: dict) -> None:
        """Not sent to this group."""

    async def timeline_changed(self, event: dict) -> None:
        await self.send_json(event)
