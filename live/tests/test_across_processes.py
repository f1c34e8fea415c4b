"""Across processes on the real Redis: an order saved through one server process reaches a
socket held by another. This is what lets the app run more than one web process."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.conf import settings
from websockets.sync.client import connect as ws_connect

from clients.models import Order
from clients.permissions import VIEWERS
from clients.tests.factories import ClientFactory, UserFactory
from live.tests.support import AdminOrderForm, session_cookie_for

# Committed rows: the server processes read the test database through their own connections.
pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
]


def test_order_saved_through_server_a_reaches_a_socket_on_server_b(asgi_servers):
    server_a, server_b = asgi_servers
    client = ClientFactory(name="Cross Process Ltd")
    watcher = session_cookie_for(UserFactory(username="watcher", roles=[VIEWERS]))
    clerk = session_cookie_for(UserFactory(username="clerk", is_staff=True, is_superuser=True))

    form = AdminOrderForm(server_a, session=clerk).open()
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={watcher}", "Origin": server_b.url}
    # The POST runs on another thread: this one waits on the socket, so the arrival time is
    # when the message came, not when server A finished answering the POST.
    with (
        ws_connect(f"{server_b.ws_url}/ws/clients/", additional_headers=headers) as socket,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        post = pool.submit(
            form.submit, client=client.pk, title="Sold on A", amount="42.00", status="NEW"
        )
        message = json.loads(socket.recv(timeout=10))
        received_at = datetime.now(UTC)
        assert post.result(timeout=10) == 302  # the admin redirects after a save

    order = Order.objects.get(title="Sold on A")
    assert message["type"] == "order.created"
    assert message["order"]["id"] == order.pk
    assert message["order"]["amount"] == "42.00"
    assert message["client"] == {
        "id": client.pk,
        "name": "Cross Process Ltd",
        "orders_count": 1,
        "orders_total": "42.00",
    }
    # From the order's save on server A (its created_at, stamped inside the transaction just
    # before the commit) to the message on server B's socket: same machine, same clock.
    latency = (received_at - datetime.fromisoformat(message["order"]["created_at"])).total_seconds()
    assert latency < 2
    print(f"\nlive: order saved on server A -> message on server B: {latency * 1000:.0f} ms")


def test_guest_socket_is_refused_by_a_real_server(asgi_servers):
    _, server_b = asgi_servers
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        ws_connect(
            f"{server_b.ws_url}/ws/clients/", additional_headers={"Origin": server_b.url}
        ).close()
