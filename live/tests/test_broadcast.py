"""The broadcaster: what it sends, and that a failing channel layer never breaks or delays the
save that caused the event."""

import socket
import time
from decimal import Decimal

import pytest
from channels.layers import get_channel_layer

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory
from live import broadcast

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """What the broadcaster hands to the channel layer but the board's, without a layer.
    (The board's group has its own tests: live/tests/test_board_events.py.)"""
    calls = []

    def send(group, message):
        if group != broadcast.ORDERS_GROUP:
            calls.append((group, message))
        return True

    monkeypatch.setattr(broadcast, "send_to_group", send)
    return calls


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: nothing listens there


def test_an_order_is_broadcast_to_the_client_list_once_committed(
    sent, django_capture_on_commit_callbacks
):
    client = ClientFactory(name="Zed")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = OrderFactory(client=client, title="Big one", amount=Decimal("0.5"))
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    order.refresh_from_db()
    assert sent == [
        (
            "clients.live",
            {
                "type": "order.created",
                "order": {
                    "id": order.pk,
                    "title": "Big one",
                    "amount": "0.50",
                    "status": "NEW",
                    "created_at": order.created_at.isoformat(),
                },
                "client": {
                    "id": client.pk,
                    "name": "Zed",
                    "orders_count": 1,
                    "orders_total": "0.50",
                },
            },
        )
    ]


def test_updating_an_order_is_not_broadcast(sent, django_capture_on_commit_callbacks):
    order = OrderFactory()
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order.status = Order.Status.DONE
        order.save()
    assert sent == []


def test_an_order_deleted_before_the_event_is_not_broadcast(sent):
    order = OrderFactory()
    sent.clear()
    order_id = order.pk
    order.delete()
    broadcast.on_order_created(None, order_id=order_id)
    assert sent == []


def test_a_raising_channel_layer_is_logged_and_the_order_is_saved(
    settings, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "live.tests.layers.RaisingChannelLayer"}}
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory(title="Saved anyway")
    assert time.monotonic() - started < 1
    assert Order.objects.filter(pk=order.pk, title="Saved anyway").exists()
    assert "live: could not send 'order.created'" in caplog.text
    assert "channel layer is down" in caplog.text


def test_a_hanging_channel_layer_is_given_up_after_the_timeout(
    settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "live.tests.layers.HangingChannelLayer"}}
    monkeypatch.setattr(broadcast, "SEND_TIMEOUT", 0.2)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory()
    assert time.monotonic() - started < 1  # the layer would hang for 30 s
    assert Order.objects.filter(pk=order.pk).exists()
    assert "live: could not send 'order.created'" in caplog.text
    assert "TimeoutError" in caplog.text


def test_a_dead_redis_is_logged_and_does_not_delay_the_save(
    settings, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_dead_port()}/0"]},
        }
    }
    get_channel_layer()  # import and build it first: the clock measures the send alone
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory()
    elapsed = time.monotonic() - started
    assert elapsed < broadcast.SEND_TIMEOUT + 0.5
    assert Order.objects.filter(pk=order.pk).exists()
    assert "live: could not send 'order.created'" in caplog.text


def test_logout_sends_a_close_to_that_sessions_sockets_only(sent, member_client):
    session_key = member_client.session.session_key
    member_client.post("/accounts/logout/")
    assert sent == [(f"session.{session_key}", {"type": "session.closed"})]
