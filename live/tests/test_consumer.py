"""The socket at /ws/clients/, through the full ASGI application (mini_crm/asgi.py): who may
connect, what an order's creation sends, and every end of the session closing the socket."""

import asyncio
from datetime import timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.test import Client as DjangoClient
from django.utils import timezone

from clients.models import Order
from clients.permissions import VIEWERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from live import consumers
from live.consumers import CLOSE_LOGGED_OUT, CLOSE_NOT_ALLOWED, RECHECK_TASK_NAME
from live.tests.support import session_cookie_for, ws_headers
from mini_crm.asgi import application

# Transactional: the socket's session lookup and the broadcaster's reads run on other threads
# (other connections), and the event is only sent once the order's transaction commits.
# A transactional test empties every table after it, the roles' groups included: the factories
# make them again (clients.tests.factories.role).
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
    other = await sync_to_async(UserFactory)(username="colleague", roles=[VIEWERS])
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


# --- Who may watch, and how long ----------------------------------------------------------------

# The patched re-check period, and how long a test waits for the close it causes: a few periods,
# so a slow shared machine does not make the tests flaky.
RECHECK = 0.1
CLOSE_WITHIN = 2


@pytest.fixture
def quick_recheck(monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", RECHECK)


@pytest.fixture
def viewer_session(db):
    """A user in the Viewers role (may view orders, nothing else) and a session of theirs."""
    user = UserFactory(username="watching-viewer", roles=[VIEWERS])
    return user, session_cookie_for(user)


async def assert_closed_with(communicator, code: int) -> None:
    output = await communicator.receive_output(timeout=CLOSE_WITHIN)
    assert output == {"type": "websocket.close", "code": code}
    await communicator.disconnect(code)  # the server's answer to the close: the consumer ends


def recheck_tasks() -> list[asyncio.Task]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name() == RECHECK_TASK_NAME and not task.done()
    ]


async def test_a_user_without_a_role_is_refused(db):
    # Logged in, active, no group: may not see orders, so may not watch them arrive.
    nobody = await sync_to_async(UserFactory)(username="no-role")
    communicator, connected = await connect(session=await sync_to_async(session_cookie_for)(nobody))
    assert not connected
    await communicator.disconnect()


async def test_a_viewer_is_accepted_and_receives_new_orders(viewer_session, acme):
    _, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    await sync_to_async(OrderFactory)(client=acme, title="Seen by a viewer")
    message = await communicator.receive_json_from(timeout=2)
    assert message["order"]["title"] == "Seen by a viewer"
    await communicator.disconnect()


async def test_a_socket_whose_session_still_holds_stays_open(quick_recheck, viewer_session, acme):
    _, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    assert await communicator.receive_nothing(timeout=RECHECK * 5)  # several re-checks passed
    await sync_to_async(OrderFactory)(client=acme, title="Still watching")
    message = await communicator.receive_json_from(timeout=2)
    assert message["order"]["title"] == "Still watching"
    await communicator.disconnect()


def _session_store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _expire(user, session_key: str) -> None:
    # Through the session store, as Django itself ends a session's life: the database row and,
    # on the real stack, its cached copy (cached_db) expire together.
    store = _session_store(session_key)
    store.load()
    store.set_expiry(timezone.now() - timedelta(seconds=1))
    store.save()


def _delete_the_row(user, session_key: str) -> None:
    # Behind the session store's back (the admin, a script): a cached copy may outlive it.
    from django.contrib.sessions.models import Session

    assert Session.objects.filter(session_key=session_key).delete()[0] == 1


def _flush(user, session_key: str) -> None:
    _session_store(session_key).delete()


def _change_password(user, session_key: str) -> None:
    # Elsewhere (another session, the admin, a reset link): this session's auth hash is stale.
    user.set_password("a-brand-new-passphrase-42")
    user.save()


def _deactivate(user, session_key: str) -> None:
    user.is_active = False
    user.save()


def _remove_from_every_role(user, session_key: str) -> None:
    user.groups.clear()


def _demote_to_a_group_without_view_order(user, session_key: str) -> None:
    guests, _ = Group.objects.get_or_create(name="No orders")
    user.groups.set([guests])


@pytest.mark.parametrize(
    "end_the_session",
    [
        _expire,
        _delete_the_row,
        _flush,
        _change_password,
        _deactivate,
        _remove_from_every_role,
        _demote_to_a_group_without_view_order,
    ],
)
async def test_the_socket_closes_when_its_session_ends(
    quick_recheck, viewer_session, end_the_session
):
    user, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected

    await sync_to_async(end_the_session)(user, session)
    await assert_closed_with(communicator, CLOSE_NOT_ALLOWED)
    assert recheck_tasks() == []


async def test_a_refused_user_cannot_reconnect(quick_recheck, viewer_session):
    user, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    await sync_to_async(_deactivate)(user, session)
    await assert_closed_with(communicator, CLOSE_NOT_ALLOWED)

    again, connected = await connect(session=session)
    assert not connected
    await again.disconnect()


async def test_a_password_change_leaves_the_session_row_alone(quick_recheck, viewer_session):
    # The re-check reads the session; it does not flush or rotate it (HTTP requests do that):
    # a key rotated here would never reach the browser.
    from django.contrib.sessions.models import Session

    user, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    await sync_to_async(_change_password)(user, session)
    await assert_closed_with(communicator, CLOSE_NOT_ALLOWED)
    assert await sync_to_async(Session.objects.filter(session_key=session).exists)()


async def test_the_recheck_stops_when_the_socket_closes(quick_recheck, viewer_session):
    _, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    assert len(recheck_tasks()) == 1
    await communicator.disconnect()
    await asyncio.sleep(0)  # let the cancellation land
    assert recheck_tasks() == []


async def test_the_recheck_stops_when_the_server_cancels_the_consumer(
    quick_recheck, viewer_session
):
    # A server shutting down cancels the application: disconnect() is never called.
    _, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    assert len(recheck_tasks()) == 1
    await communicator.wait(timeout=0.01)  # still running: cancelled
    await asyncio.sleep(0)
    assert recheck_tasks() == []


async def test_logout_stops_the_recheck_too(quick_recheck, logged_in):
    browser, session = logged_in
    communicator, connected = await connect(session=session)
    assert connected
    await sync_to_async(browser.post)("/accounts/logout/")
    output = await communicator.receive_output(timeout=2)
    assert output["code"] == CLOSE_LOGGED_OUT  # the logout's own code, not the re-check's
    await communicator.disconnect(CLOSE_LOGGED_OUT)
    await asyncio.sleep(0)
    assert recheck_tasks() == []


async def test_a_failing_recheck_closes_the_socket(quick_recheck, viewer_session, monkeypatch):
    # Fail closed: a socket that can no longer be checked gets no more orders.
    def database_down(session_key):
        raise ConnectionError("database down")

    monkeypatch.setattr(consumers, "_session_data", database_down)
    _, session = viewer_session
    communicator, connected = await connect(session=session)
    assert connected
    await assert_closed_with(communicator, consumers.CLOSE_RECHECK_FAILED)
