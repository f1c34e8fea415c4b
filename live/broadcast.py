"""The one broadcaster: the rest of the code tells the live pages (the client list, the orders
board) about an event through here.

Sends run after the transaction commits (clients.events) and are bounded in time: a dead or
slow channel layer (Redis down) costs the request at most SEND_TIMEOUT seconds, is logged, and
never breaks or undoes the save.
"""

import asyncio
import logging
import os
import threading
from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from clients.models import Order

logger = logging.getLogger(__name__)

# Everyone looking at the client list.
CLIENTS_GROUP = "clients.live"
# Everyone looking at the orders board.
ORDERS_GROUP = "orders.live"
# Seconds one send may take before it is given up (and logged).
SEND_TIMEOUT = 1.0

ORDER_CREATED = "order.created"
# To the board: one order's new state (or its deletion), and "many orders changed, refresh".
ORDER_CHANGED = "order.changed"
ORDERS_CHANGED = "orders.changed"
# An import's progress, to the sockets of its page (imports/progress.py).
IMPORT_PROGRESS = "import.progress"
# A note or task of one client was added, changed or deleted: to that client's open pages.
TIMELINE_CHANGED = "timeline.changed"
# Sent to one session's sockets when it logs out; the consumer then closes them.
SESSION_CLOSED = "session.closed"


def session_group(session_key: str) -> str:
    """The group holding the sockets opened with one login session (keys are alphanumeric)."""
    return f"session.{session_key}"


def import_group(import_id: int) -> str:
    """The group of the sockets following one import's progress."""
    return f"import.{import_id}"


def client_group(client_id: int) -> str:
    """The group of the sockets of one client's open pages (its timeline)."""
    return f"client.{client_id}"


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def order_created_message(*, order_id: int) -> dict | None:
    """The `order.created` event for an order, with its client's new totals; None when the
    order is gone (deleted before the event was sent)."""
    # One query: the client's new totals come with the order (the triggers wrote them in the
    # same transaction), where two cost an order create ~0.5 ms more of CPU.
    order = Order.objects.select_related("client").filter(pk=order_id).first()
    if order is None:
        return None
    client = order.client
    return {
        "type": ORDER_CREATED,
        "order": {
            "id": order.pk,
            "title": order.title,
            "amount": _money(order.amount),
            "status": order.status,
            "created_at": order.created_at.isoformat(),
        },
        "client": {
            "id": client.pk,
            "name": client.name,
            "orders_count": client.orders_count,
            "orders_total": _money(client.orders_total),
        },
    }


def order_changed_message(*, order_id: int | None, deleted: bool = False) -> dict:
    """The board's event for one order: its card as the board draws it (orders.selectors
    card_data), or `deleted`; `orders.changed` when `order_id` is None (a bulk change).

    The column totals are not in it: computing them here would add their query to every
    writer's request right after its own commit retired the cached copy. The board fetches them
    instead, debounced, from the cache that every open board shares
    (orders/static/orders/board.js).
    """
    from orders.selectors import card_data

    if order_id is None:
        return {"type": ORDERS_CHANGED}
    order = None if deleted else Order.objects.select_related("client").filter(pk=order_id).first()
    return {
        "type": ORDER_CHANGED,
        "order_id": order_id,
        # Gone already (deleted before this event was sent): the same as a deletion.
        "deleted": order is None,
        "order": card_data(order) if order is not None else None,
    }


def send_to_group(group: str, message: dict) -> bool:
    """Send `message` to `group` on the channel layer, within SEND_TIMEOUT seconds.

    Returns whether it was sent. Never raises: the live page is a nicety, the save that caused
    the message is not.
    """
    try:
        layer = get_channel_layer()
        if layer is None:
            return False

        async def send() -> None:
            await asyncio.wait_for(layer.group_send(group, message), timeout=SEND_TIMEOUT)

        if isinstance(layer, RedisChannelLayer):
            # On the process's own loop: channels_redis keeps one connection pool per event
            # loop, and async_to_sync runs each call on a new loop, so every send opened (and
            # dropped) a Redis connection: 3 ms of CPU per send, four times the INSERT that
            # caused it (docs/performance.md#broadcast-loop).
            asyncio.run_coroutine_threadsafe(send(), _loop()).result(timeout=SEND_TIMEOUT + 1)
        else:
            # The in-memory layer (the embedded default, the tests) lives on the caller's loop.
            async_to_sync(send)()
    except Exception:
        logger.exception("live: could not send %r to group %r", message.get("type"), group)
        return False
    return True


_loop_lock = threading.Lock()
_loop_state: dict = {}


def _loop() -> asyncio.AbstractEventLoop:
    """This process's broadcast loop, started on first use in a daemon thread (again after a
    fork: a gunicorn worker does not inherit its parent's threads)."""
    with _loop_lock:
        loop = _loop_state.get("loop")
        if loop is None or _loop_state.get("pid") != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-broadcast", daemon=True).start()
            _loop_state.update(loop=loop, pid=os.getpid())
        return loop


def on_order_created(sender, *, order_id: int, **kwargs) -> None:
    """Receiver of clients.events.order_created: tell everyone on the client list."""
    message = order_created_message(order_id=order_id)
    if message is not None:
        send_to_group(CLIENTS_GROUP, message)


def on_order_changed(sender, *, order_id: int | None, deleted: bool = False, **kwargs) -> None:
    """Receiver of clients.events.order_changed: tell everyone on the board."""
    send_to_group(ORDERS_GROUP, order_changed_message(order_id=order_id, deleted=deleted))


def on_clients_changed(sender, *, orders_only: bool = False, **kwargs) -> None:
    """Receiver of clients.events.clients_changed: a change to clients (a merge moving their
    orders with one UPDATE, a name edited, a client deleted) can change cards without any order
    event; the boards refresh once. Order changes (`orders_only`) have their own event."""
    if not orders_only:
        send_to_group(ORDERS_GROUP, {"type": ORDERS_CHANGED})


def on_timeline_changed(
    sender, *, client_id: int, kind: str, item_id: int, deleted: bool = False, **kwargs
) -> None:
    """Receiver of timeline.events.timeline_changed: tell the client's open pages, which fetch
    the item themselves (with their own user's rights), so the event carries no text."""
    message = {"type": TIMELINE_CHANGED, "kind": kind, "id": item_id, "deleted": deleted}
    send_to_group(client_group(client_id), message)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    """Receiver of user_logged_out: close the sockets opened with the session that ends.

    Django sends the signal before it flushes the session, so the key is still there. Only
    this session's sockets close: the same user logged in elsewhere keeps theirs.
    """
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        send_to_group(session_group(session_key), {"type": SESSION_CLOSED})
