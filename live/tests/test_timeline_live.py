"""The socket at /ws/clients/<id>/, through the full ASGI application (mini_crm/asgi.py): who
may follow a client's timeline, what a note's or a task's write sends (after commit, to that
client's sockets only, no text), the logout closing it, and a failing channel layer never
breaking the note's save."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group, Permission
from django.db import connections, transaction
from django.test import Client as DjangoClient

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, UserFactory
from live import consumers
from live.consumers import CLOSE_LOGGED_OUT, CLOSE_NOT_ALLOWED
from live.tests.support import session_cookie_for, ws_headers
from mini_crm.asgi import application
from timeline import services
from timeline.models import Note, Task
from timeline.tests.factories import TaskFactory

# Transactional: the socket's session lookup runs on another thread (another connection), and
# the event goes out once the note's transaction commits. The factories make the roles' groups
# again after each test empties the tables (clients.tests.factories.role).
pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Wants 20% off, do not tell the others"


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections():
    """The ORM calls made through sync_to_async run on asgiref's worker thread, whose
    connections outlive the test: close them, or the test database cannot be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def two_clients(db):
    return ClientFactory(name="Acme GmbH"), ClientFactory(name="Globex Ltd")


@pytest.fixture
def logged_in(member):
    """A Django test client logged in as `member` (Managers), and its session cookie."""
    browser = DjangoClient()
    browser.force_login(member)
    return browser, browser.session.session_key


def path_of(client) -> str:
    return f"/ws/clients/{client.pk}/"


async def connect(client, **headers) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(
        application, path_of(client), headers=ws_headers(**headers)
    )
    connected, _ = await communicator.connect()
    return communicator, connected


@sync_to_async
def session_in(*roles: str, username: str = "watcher") -> str:
    return session_cookie_for(UserFactory(username=username, roles=list(roles)))


@sync_to_async
def committed(write, **kwargs):
    """`write(**kwargs)` in a transaction of its own: its on-commit callbacks (the event) run
    when it commits, as in a request."""
    with transaction.atomic():
        return write(**kwargs)


def _only_view_order() -> Group:
    """A group that may see orders but not clients: not enough for a client's page."""
    group, _ = Group.objects.get_or_create(name="Orders only")
    group.permissions.set(
        [Permission.objects.get(content_type__app_label="clients", codename="view_order")]
    )
    return group


# --- The door ------------------------------------------------------------------------------
async def test_a_guest_is_refused(two_clients):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=None)
    assert not connected
    await communicator.disconnect()


async def test_a_user_in_no_role_is_refused(two_clients):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in())
    assert not connected
    await communicator.disconnect()


async def test_a_user_who_may_see_orders_but_not_clients_is_refused(two_clients):
    acme, _ = two_clients

    @sync_to_async
    def orders_only_session() -> str:
        user = UserFactory(username="orders-only")
        user.groups.set([_only_view_order()])
        return session_cookie_for(user)

    communicator, connected = await connect(acme, session=await orders_only_session())
    assert not connected
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused_even_with_a_valid_session(two_clients):
    acme, _ = two_clients
    session = await session_in(MANAGERS)
    communicator, connected = await connect(acme, session=session, origin="https://evil.example")
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("role", [MANAGERS, SALES, VIEWERS])
async def test_every_role_may_follow_a_clients_timeline(two_clients, role):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in(role))
    assert connected
    await communicator.disconnect()


# --- What is sent, and to whom ------------------------------------------------------------
async def test_a_new_note_reaches_its_clients_sockets_only(two_clients, member):
    acme, globex = two_clients
    session = await session_in(VIEWERS)
    on_acme, ok_acme = await connect(acme, session=session)
    on_globex, ok_globex = await connect(globex, session=session)
    assert ok_acme
    assert ok_globex

    note = await committed(services.note_create, client_id=acme.pk, author=member, body=SECRET)

    message = await on_acme.receive_json_from(timeout=2)
    assert message == {"type": "timeline.changed", "kind": "note", "id": note.pk, "deleted": False}
    assert await on_globex.receive_nothing(timeout=0.3)
    await on_acme.disconnect()
    await on_globex.disconnect()


async def test_the_event_carries_no_text_of_the_note(two_clients, member):
    # The page fetches the item with its own user's rights: nothing else travels.
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in(VIEWERS))
    assert connected

    await committed(services.note_create, client_id=acme.pk, author=member, body=SECRET)
    output = await communicator.receive_output(timeout=2)
    assert output["type"] == "websocket.send"
    assert set(output) == {"type", "text"}  # JSON text, no bytes
    assert SECRET not in output["text"]
    assert "20%" not in output["text"]
    assert member.username not in output["text"]
    await communicator.disconnect()


async def test_a_note_edited_then_deleted_is_sent_each_time(two_clients, member):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in(SALES))
    assert connected
    note = await committed(services.note_create, client_id=acme.pk, author=member, body="First")
    note_id = note.pk
    await communicator.receive_json_from(timeout=2)

    await committed(services.note_update, note=note, body="Second")
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "timeline.changed",
        "kind": "note",
        "id": note_id,
        "deleted": False,
    }
    await committed(services.note_delete, note=note)
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "timeline.changed",
        "kind": "note",
        "id": note_id,
        "deleted": True,
    }
    assert not await sync_to_async(Note.objects.filter(pk=note_id).exists)()
    await communicator.disconnect()


async def test_a_task_ticked_done_then_deleted_is_sent_each_time(two_clients, member):
    acme, globex = two_clients
    task = await sync_to_async(TaskFactory)(client=acme, assignee=member, title="Call back")
    task_id = task.pk
    session = await session_in(MANAGERS)
    on_acme, ok_acme = await connect(acme, session=session)
    on_globex, ok_globex = await connect(globex, session=session)
    assert ok_acme
    assert ok_globex

    await committed(services.task_set_done, task=task, done=True)
    assert await on_acme.receive_json_from(timeout=2) == {
        "type": "timeline.changed",
        "kind": "task",
        "id": task_id,
        "deleted": False,
    }
    await committed(services.task_delete, task=task)
    assert await on_acme.receive_json_from(timeout=2) == {
        "type": "timeline.changed",
        "kind": "task",
        "id": task_id,
        "deleted": True,
    }
    assert not await sync_to_async(Task.objects.filter(pk=task_id).exists)()
    assert await on_globex.receive_nothing(timeout=0.3)
    await on_acme.disconnect()
    await on_globex.disconnect()


async def test_a_note_added_through_the_composer_reaches_the_socket(two_clients, logged_in):
    browser, session = logged_in
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=session)
    assert connected

    response = await sync_to_async(browser.post)(
        f"/clients/{acme.pk}/notes/add/", {"note-body": "From the page"}
    )
    assert response.status_code == 302, response.content[:500]
    note = await sync_to_async(Note.objects.get)(client=acme)
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "timeline.changed",
        "kind": "note",
        "id": note.pk,
        "deleted": False,
    }
    await communicator.disconnect()


async def test_nothing_is_sent_for_a_rolled_back_note(two_clients, member):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in(VIEWERS))
    assert connected

    @sync_to_async
    def create_and_roll_back() -> None:
        with transaction.atomic():
            services.note_create(client_id=acme.pk, author=member, body="Never")
            transaction.set_rollback(True)

    await create_and_roll_back()
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_what_the_browser_sends_is_ignored(two_clients):
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=await session_in(VIEWERS))
    assert connected
    await communicator.send_json_to({"type": "timeline.changed", "kind": "note", "id": 1})
    await communicator.send_to(text_data="not json {")
    assert await communicator.receive_nothing(timeout=0.2)  # no echo, no crash, still open
    await communicator.disconnect()


# --- How long it stays open ------------------------------------------------------------------
async def test_logout_closes_the_socket(two_clients, logged_in):
    browser, session = logged_in
    acme, _ = two_clients
    communicator, connected = await connect(acme, session=session)
    assert connected

    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    output = await communicator.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": CLOSE_LOGGED_OUT}
    await communicator.wait()


async def test_losing_the_right_to_see_clients_closes_the_socket(two_clients, monkeypatch):
    # The periodic re-check asks for the timeline's own permissions, view_client included.
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.1)
    acme, _ = two_clients
    user = await sync_to_async(UserFactory)(username="demoted", roles=[VIEWERS])
    session = await sync_to_async(session_cookie_for)(user)
    communicator, connected = await connect(acme, session=session)
    assert connected

    await sync_to_async(lambda: user.groups.set([_only_view_order()]))()
    output = await communicator.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": CLOSE_NOT_ALLOWED}
    await communicator.disconnect(CLOSE_NOT_ALLOWED)


# --- A failing channel layer -------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer", ["live.tests.layers.RaisingChannelLayer", "live.tests.layers.HangingChannelLayer"]
)
def test_a_failing_channel_layer_never_breaks_the_note(
    settings, monkeypatch, caplog, two_clients, member, layer
):
    from live import broadcast

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": layer}}
    monkeypatch.setattr(broadcast, "SEND_TIMEOUT", 0.2)  # the hanging layer would take 30 s
    channel_layers.backends = {}
    acme, _ = two_clients

    with transaction.atomic():
        note = services.note_create(client_id=acme.pk, author=member, body="Saved anyway")
    assert Note.objects.filter(pk=note.pk, body="Saved anyway").exists()
    assert "live: could not send 'timeline.changed'" in caplog.text


def test_a_note_added_through_the_composer_is_saved_when_the_layer_is_down(
    settings, caplog, two_clients, member_client
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "live.tests.layers.RaisingChannelLayer"}}
    channel_layers.backends = {}
    acme, _ = two_clients

    response = member_client.post(f"/clients/{acme.pk}/notes/add/", {"note-body": "Still here"})
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{acme.pk}/#timeline"
    assert Note.objects.filter(client=acme, body="Still here").exists()
    assert "live: could not send 'timeline.changed'" in caplog.text
