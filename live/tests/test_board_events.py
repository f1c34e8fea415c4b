"""The board's live events: one `order.changed` to the `orders.live` group after commit for each
create, status change and delete, from every path; one `orders.changed` for a bulk change; and
the socket at /ws/orders/ that carries them (the client list's door and re-check rules)."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client as DjangoClient

from clients.models import Order
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from live import broadcast
from live.tests.support import ws_headers
from mini_crm.asgi import application


@pytest.fixture
def board_sent(monkeypatch):
    """What the broadcaster hands to the channel layer for the board, without a layer."""
    calls = []

    def send(group, message):
        if group == broadcast.ORDERS_GROUP:
            calls.append(message)
        return True

    monkeypatch.setattr(broadcast, "send_to_group", send)
    return calls


@pytest.mark.django_db
def test_a_new_order_is_sent_to_the_board_after_commit(
    board_sent, django_capture_on_commit_callbacks
):
    acme = ClientFactory(name="Acme")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = OrderFactory(title="Roof", amount=Decimal("5"), client=acme)
    assert board_sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert len(board_sent) == 1
    message = board_sent[0]
    assert message["type"] == "order.changed"
    assert message["order_id"] == order.pk
    assert message["deleted"] is False
    assert message["order"]["status"] == "NEW"
    assert message["order"]["amount"] == "5.00"
    assert message["order"]["client"]["name"] == "Acme"


@pytest.mark.django_db
def test_a_status_change_is_sent_once(
    board_sent, django_capture_on_commit_callbacks, member_client
):
    order = OrderFactory(status="NEW")
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"})
    assert [(m["order_id"], m["order"]["status"]) for m in board_sent] == [(order.pk, "DONE")]


@pytest.mark.django_db
def test_a_deleted_order_is_sent_as_deleted(board_sent, django_capture_on_commit_callbacks):
    order = OrderFactory()
    order_id = order.pk
    with django_capture_on_commit_callbacks(execute=True):
        order.delete()
    assert board_sent == [
        {"type": "order.changed", "order_id": order_id, "deleted": True, "order": None}
    ]


@pytest.mark.django_db
def test_a_rolled_back_change_is_never_sent(board_sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        OrderFactory()
    # The test's transaction is rolled back: its callbacks are never run.
    assert board_sent == []
    assert len(callbacks) >= 1


@pytest.mark.django_db
def test_a_bulk_delete_is_one_message(board_sent, django_capture_on_commit_callbacks):
    client = ClientFactory()
    OrderFactory.create_batch(30, client=client)
    with django_capture_on_commit_callbacks(execute=True):
        Order.objects.filter(client=client).delete()
    assert board_sent == [{"type": "orders.changed"}]


@pytest.mark.django_db
def test_a_client_deleted_with_its_orders_sends_no_message_per_order(
    board_sent, django_capture_on_commit_callbacks
):
    client = ClientFactory()
    OrderFactory.create_batch(30, client=client)
    with django_capture_on_commit_callbacks(execute=True):
        client.delete()
    # One for its orders, one for the client itself: never 30.
    assert board_sent == [{"type": "orders.changed"}, {"type": "orders.changed"}]


@pytest.mark.django_db
def test_a_merge_sends_no_message_per_order(board_sent, django_capture_on_commit_callbacks):
    source, target = ClientFactory(), ClientFactory()
    OrderFactory.create_batch(30, client=source)
    with django_capture_on_commit_callbacks(execute=True):
        client_merge(source_id=source.pk, target_id=target.pk)
    # The merge's own event and the source's deletion, one transaction: the boards refresh
    # once, never 30 times (nor twice).
    assert board_sent == [{"type": "orders.changed"}]


@pytest.mark.django_db
def test_a_failing_channel_layer_never_breaks_the_move(
    settings, member_client, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "live.tests.layers.RaisingChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends = {}
    order = OrderFactory(status="NEW")
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "DONE"


# --- The socket -----------------------------------------------------------------------------
PATH = "/ws/orders/"


@pytest.fixture
async def _close_worker_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


def session_of(user) -> str:
    browser = DjangoClient()
    browser.force_login(user)
    return browser.session.session_key


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_worker_thread_connections")
@pytest.mark.parametrize(
    ("roles", "allowed"), [(["Managers"], True), (["Viewers"], True), ([], False)]
)
async def test_who_may_open_the_board_socket(roles, allowed):
    user = await sync_to_async(UserFactory)(username="u", roles=roles)
    session = await sync_to_async(session_of)(user)
    communicator = WebsocketCommunicator(application, PATH, headers=ws_headers(session=session))
    connected, _ = await communicator.connect()
    assert connected is allowed
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_worker_thread_connections")
async def test_a_guest_may_not_open_the_board_socket():
    communicator = WebsocketCommunicator(application, PATH, headers=ws_headers(session=None))
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_worker_thread_connections")
async def test_the_board_socket_receives_a_status_change_after_commit():
    user = await sync_to_async(UserFactory)(username="boss", roles=["Managers"])
    session = await sync_to_async(session_of)(user)
    order = await sync_to_async(OrderFactory)(status="NEW")
    board = WebsocketCommunicator(application, PATH, headers=ws_headers(session=session))
    clients_list = WebsocketCommunicator(
        application, "/ws/clients/", headers=ws_headers(session=session)
    )
    assert (await board.connect())[0]
    assert (await clients_list.connect())[0]

    def move():
        order.status = "IN_PROGRESS"
        order.save()  # autocommit: the events go out at once

    await sync_to_async(move)()
    event = await board.receive_json_from(timeout=2)
    assert event["type"] == "order.changed"
    assert event["order"]["status"] == "IN_PROGRESS"
    # The client list hears of new orders only, never of status changes.
    assert await clients_list.receive_nothing(timeout=0.2)

    order_id = order.pk
    await sync_to_async(order.delete)()
    event = await board.receive_json_from(timeout=2)
    assert (event["order_id"], event["deleted"]) == (order_id, True)
    await board.disconnect()
    await clients_list.disconnect()
