"""The socket at /ws/clients/, through the full ASGI application (mini_crm/asgi.py): who may
connect, what an order's creation sends, and logout closing the socket."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction
from django.test import Client as DjangoClient

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from live.consumers import CLOSE_LOGGED_OUT
from live.tests.support import session_cookie_for, ws_headers
from mini_crm.asgi import application

# Transactional: the socket's session lookup and the broadcaster's reads run on other threads
# (other connections), and the event is only sent once the order's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/clients/"


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections():
    """The ORM calls made through sync_to_async (ours, and the session lookup of the auth
    middleware) run on asgiref's worker thread, whose connections outlive the test: close them,
    or the test database cannot be dropped at the end of the run."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def logged_in(member):
    """A Django test client logged in as `member`, and the session cookie it holds."""
    browser = DjangoClient()
    browser.force_login(member)
    return browser, browser.session.session_key


@pytest.fixture
def acme(db):
    # One order already: the event carries the client's new totals, not the order's own.
    client = ClientFactory(name="Acme GmbH")
    OrderFactory(client=client, amount=Decimal("100.00"))
    return client


async def connect(**headers) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(application, PATH, headers=ws_headers(**headers))
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_guest_is_rejected():
    communicator, connected = await connect(session=None)
    assert not connected
    await communicator.disconnect()


async def test_a_bogus_session_cookie_is_rejected():
    communicator, connected = await connect(session="not-a-session-key")
    assert not connected
    await communicator.disconnect()


async def test_foreign_origin_is_rejected_even_with_a_valid_session(logged_in):
    _, session = logged_in
    communicator, connected = await connect(session=session, origin="https://evil.example")
    assert not connected
    await communicator.disconnect()


async def test_missing_origin_is_rejected(logged_in):
    _, session = logged_in
    communicator, connected = await connect(session=session, origin=None)
    assert not connected
    await communicator.disconnect()


async def test_logged_in_user_receives_the_new_order_with_its_clients_totals(logged_in, acme):
    _, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected

    @sync_to_async
    def create_order() -> Order:
        with transaction.atomic():
            order = Order.objects.create(
                client=acme, title="Annual plan", amount=Decimal("1234.50"), status="NEW"
            )
        order.refresh_from_db()
        return order

    order = await create_order()
    message = await communicator.receive_json_from(timeout=2)
    assert message == {
        "type": "order.created",
        "order": {
            "id": order.pk,
            "title": "Annual plan",
            "amount": "1234.50",
            "status": "NEW",
            "created_at": order.created_at.isoformat(),
        },
        "client": {
            "id": acme.pk,
            "name": "Acme GmbH",
            "orders_count": 2,
            "orders_total": "1334.50",
        },
    }
    await communicator.disconnect()


async def test_nothing_is_sent_for_a_rolled_back_order(logged_in, acme):
    _, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected

    @sync_to_async
    def create_and_roll_back() -> None:
        with transaction.atomic():
            Order.objects.create(client=acme, title="Never", amount=Decimal("1.00"))
            transaction.set_rollback(True)

    await create_and_roll_back()
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_order_created_through_the_order_form_reaches_the_socket(logged_in, acme):
    browser, session = logged_in
    path = f"/clients/{acme.pk}/orders/add/"
    communicator, connected = await connect(session=session)
    assert connected

    response = await sync_to_async(browser.post)(
        path, {"title": "From the form", "amount": "20.00", "status": "NEW"}
    )
    assert response.status_code in (302, 303), response.content[:500]
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "order.created"
    assert message["order"]["title"] == "From the form"
    assert message["order"]["amount"] == "20.00"
    assert message["client"] == {
        "id": acme.pk,
        "name": "Acme GmbH",
        "orders_count": 2,
        "orders_total": "120.00",
    }
    await communicator.disconnect()


async def test_order_created_through_the_api_reaches_the_socket(logged_in, staff, acme):
    # A member watches the list; staff (the API's writers) record the order.
    _, session = logged_in
    writer = DjangoClient()
    await sync_to_async(writer.force_login)(staff)
    communicator, connected = await connect(session=session)
    assert connected

    response = await sync_to_async(writer.post)(
        "/api/orders/",
        {"client": acme.pk, "title": "From the API", "amount": "30.00", "status": "NEW"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content[:500]
    message = await communicator.receive_json_from(timeout=2)
    assert message["order"]["title"] == "From the API"
    assert message["order"]["amount"] == "30.00"
    assert message["client"]["orders_count"] == 2
    assert message["client"]["orders_total"] == "130.00"
    await communicator.disconnect()


async def test_every_open_socket_receives_the_event(logged_in, acme):
    _, session = logged_in
    other = await sync_to_async(UserFactory)(username="colleague")
    other_session = await sync_to_async(session_cookie_for)(other)
    first, ok1 = await connect(session=session)
    second, ok2 = await connect(session=other_session)
    assert ok1
    assert ok2

    await sync_to_async(OrderFactory)(client=acme, title="For everyone")
    for communicator in (first, second):
        message = await communicator.receive_json_from(timeout=2)
        assert message["order"]["title"] == "For everyone"
        await communicator.disconnect()


async def test_logout_closes_the_socket(logged_in):
    browser, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected

    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.close"
    assert output["code"] == CLOSE_LOGGED_OUT
    await communicator.wait()


async def test_logout_of_another_session_leaves_this_socket_open(logged_in, member, acme):
    _, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected
    elsewhere = DjangoClient()
    await sync_to_async(elsewhere.force_login)(member)

    await sync_to_async(elsewhere.post)("/accounts/logout/")
    assert await communicator.receive_nothing(timeout=0.3)
    await sync_to_async(OrderFactory)(client=acme, title="Still live")
    message = await communicator.receive_json_from(timeout=2)
    assert message["order"]["title"] == "Still live"
    await communicator.disconnect()


async def test_what_the_browser_sends_is_ignored(logged_in):
    _, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected
    await communicator.send_json_to({"type": "order.created", "order": {}})
    await communicator.send_to(text_data="not json {")
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_nothing(timeout=0.2)  # no echo, no crash, still open
    await communicator.disconnect()
