"""The socket at /ws/imports/<id>/, through the full ASGI application: who may follow an
import's progress, and what it receives (imports/progress.py's reports, and only its own)."""

import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import connections

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import UserFactory
from imports import progress, services
from imports.models import Import
from imports.tests.test_views import CLIENT_ROWS, csv_file
from live.tests.support import session_cookie_for, ws_headers
from mini_crm.asgi import application

# Transactional: the socket's session lookup runs on another thread (another connection).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new in-memory channel layer for each test: no group left over from another's sockets."""
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections():
    # The ORM calls made through sync_to_async run on asgiref's worker thread, whose
    # connections outlive the test: close them, or the test database cannot be dropped.
    yield
    await sync_to_async(connections.close_all)()


@sync_to_async
def session_of(role: str | None) -> str:
    roles = [role] if role else []
    return session_cookie_for(UserFactory(username=f"watcher-{role}", roles=roles))


@sync_to_async
def an_import() -> Import:
    return Import.objects.create(
        kind="clients", file="imports/x.csv", file_name="x.csv", stage=Import.Stage.CHECKING
    )


async def connect(pk: int, session: str | None, **headers):
    communicator = WebsocketCommunicator(
        application, f"/ws/imports/{pk}/", headers=ws_headers(session=session, **headers)
    )
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_a_guest_is_refused():
    batch = await an_import()
    communicator, connected = await connect(batch.pk, None)
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("role", [SALES, VIEWERS, None])
async def test_users_who_may_not_import_are_refused(role):
    batch = await an_import()
    communicator, connected = await connect(batch.pk, await session_of(role))
    assert not connected
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused():
    batch = await an_import()
    session = await session_of(MANAGERS)
    communicator, connected = await connect(batch.pk, session, origin="https://evil.example")
    assert not connected
    await communicator.disconnect()


async def test_a_manager_receives_the_progress_and_the_end():
    batch = await an_import()
    communicator, connected = await connect(batch.pk, await session_of(MANAGERS))
    assert connected

    report = progress.reporter(batch.pk, stage=Import.Stage.CHECKING)
    await sync_to_async(report)(2000, 5000)
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "import.progress",
        "id": batch.pk,
        "stage": "checking",
        "done": 2000,
        "total": 5000,
        "finished": False,
        "at": pytest.approx(time.time(), abs=5),
    }
    await sync_to_async(report.finish)()
    message = await communicator.receive_json_from(timeout=2)
    assert (message["id"], message["finished"]) == (batch.pk, True)
    await communicator.disconnect()


async def test_only_its_own_imports_progress_arrives():
    batch, other = await an_import(), await an_import()
    communicator, connected = await connect(batch.pk, await session_of(MANAGERS))
    assert connected
    await sync_to_async(progress.reporter(other.pk, stage=Import.Stage.SAVING))(1, 2)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_what_the_browser_sends_is_ignored():
    batch = await an_import()
    communicator, connected = await connect(batch.pk, await session_of(MANAGERS))
    assert connected
    await communicator.send_json_to({"type": "import.progress", "finished": True})
    await communicator.send_to(text_data="not json {")
    assert await communicator.receive_nothing(timeout=0.2)  # no echo, no crash, still open
    await communicator.disconnect()


async def test_a_check_in_the_background_reports_to_the_socket(settings):
    settings.IMPORT_BACKGROUND_KB = 0  # the worker's path (eager without Redis)
    session = await session_of(MANAGERS)
    batch = await sync_to_async(services.import_create)(
        user=None, kind="clients", upload=csv_file(CLIENT_ROWS)
    )
    communicator, connected = await connect(batch.pk, session)
    assert connected

    await sync_to_async(services.import_start_check)(import_id=batch.pk)
    first = await communicator.receive_json_from(timeout=2)
    assert first == {**first, "stage": "checking", "done": 4, "total": 4, "finished": False}
    last = await communicator.receive_json_from(timeout=2)
    assert last["finished"] is True
    await sync_to_async(batch.refresh_from_db)()
    assert batch.stage == Import.Stage.PREVIEW
    await communicator.disconnect()
