"""GET /api/clients/<id>/history/: the shape of each entry, who and through what (an API token,
a session, a page, an import, the system), actions and batch events, newest first in pages of
25, who may read it, 404s, and a constant number of queries."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from history.context import Via, recorded_as
from history.models import Entry
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db

ENTRY_FIELDS = {"at", "actor", "via", "action", "changes", "object", "data"}


def with_token(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def logged_in(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def anna(db):
    """A manager with staff status: writes through the API."""
    return UserFactory(username="anna", is_staff=True, roles=[MANAGERS])


def history(api, client_id, query="") -> list[dict]:
    response = api.get(f"/api/clients/{client_id}/history/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_change_through_the_api_with_a_token(anna):
    api = with_token(anna)
    created = api.post("/api/clients/", {"name": "Ada", "email": "ada@mail.test"})
    ada = created.json()["id"]
    api.patch(f"/api/clients/{ada}/", {"phone": "+49 30 7654321"})

    response = api.get(f"/api/clients/{ada}/history/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    update, create = body["results"]
    assert set(update) == ENTRY_FIELDS
    assert update == {
        "at": update["at"],
        "actor": "API token of anna",
        "via": "api",
        "action": "update",
        "changes": {"phone": ["", "+49 30 7654321"]},
        "object": {"type": "client", "id": ada, "repr": "Ada <ada@mail.test>"},
        "data": None,
    }
    entry = Entry.objects.get(action=Entry.Action.UPDATE)
    assert datetime.datetime.fromisoformat(update["at"]) == entry.timestamp
    assert (create["action"], create["actor"], create["via"]) == (
        "create",
        "API token of anna",
        "api",
    )
    assert create["changes"]["name"] == [None, "Ada"]
    assert create["changes"]["email"] == [None, "ada@mail.test"]


def test_a_change_through_an_api_session_is_the_users(anna):
    api = logged_in(anna)
    ada = ClientFactory()
    api.patch(f"/api/clients/{ada.pk}/", {"name": "Ada L."})
    (update, _create) = history(api, ada.pk)
    assert (update["actor"], update["via"], update["action"]) == ("anna", "api", "update")


def test_a_change_through_a_page_is_via_the_page(anna):
    ada = ClientFactory(name="Ada", email="ada@mail.test")
    page = logged_in(anna)
    response = page.post(
        f"/clients/{ada.pk}/edit/",
        {"name": "Ada Lovelace", "email": "ada@mail.test", "phone": ada.phone},
        format="multipart",  # a browser's form
    )
    assert response.status_code == 302, response.context["form"].errors
    update = history(page, ada.pk)[0]
    assert (update["actor"], update["via"], update["action"]) == ("anna", "page", "update")
    assert update["changes"] == {"name": ["Ada", "Ada Lovelace"]}


def test_an_import_a_command_and_the_admin_say_so(anna):
    ada = ClientFactory(name="Ada")  # nothing set: the system, through a command
    with recorded_as(Via.IMPORT, user=anna):
        ada.phone = "+49 30 1"
        ada.save()
    with recorded_as(Via.ADMIN, user=anna):
        ada.name = "Ada L."
        ada.save()
    admin, imported, created = history(logged_in(anna), ada.pk)
    assert (created["actor"], created["via"], created["action"]) == ("system", "command", "create")
    assert (imported["actor"], imported["via"]) == ("anna", "import")
    assert (admin["actor"], admin["via"]) == ("anna", "admin")


def test_notes_and_tasks_are_in_their_clients_history(anna):
    api = with_token(anna)
    ada = ClientFactory()
    note = api.post("/api/notes/", {"client": ada.pk, "body": "Called"}).json()
    api.patch(f"/api/notes/{note['id']}/", {"body": "Called twice"})
    task = api.post(
        "/api/tasks/",
        {
            "client": ada.pk,
            "title": "Quote",
            "due_at": "2030-01-01T10:00:00Z",
            "assignee": anna.pk,
        },
    ).json()
    api.patch(f"/api/tasks/{task['id']}/", {"done": True})
    api.delete(f"/api/notes/{note['id']}/")

    entries = history(api, ada.pk)
    seen = [(e["object"]["type"], e["action"]) for e in entries]
    assert seen == [
        ("note", "delete"),
        ("task", "update"),
        ("task", "create"),
        ("note", "update"),
        ("note", "create"),
        ("client", "create"),
    ]
    assert {e["actor"] for e in entries[:5]} == {"API token of anna"}
    assert {e["via"] for e in entries[:5]} == {"api"}
    assert entries[1]["changes"] == {"done": [False, True]}
    assert entries[1]["object"] == {"type": "task", "id": task["id"], "repr": "Quote"}
    assert entries[3]["changes"] == {"body": ["Called", "Called twice"]}
    assert entries[0]["object"] == {"type": "note", "id": note["id"], "repr": "Called twice"}


def test_a_merge_is_one_entry_with_its_event_and_data(anna):
    api = with_token(anna)
    kept = ClientFactory(name="Ada", phone="")
    dupe = ClientFactory(name="Ada L.", email="dupe@mail.test", phone="+49 30 9")
    OrderFactory(client=dupe)
    response = api.post(f"/api/clients/{kept.pk}/merge/", {"source": dupe.pk})
    assert response.status_code == 200, response.content
    merge = history(api, kept.pk)[0]
    assert (merge["action"], merge["actor"], merge["via"]) == (
        "merge",
        "API token of anna",
        "api",
    )
    assert merge["changes"] == {"phone": ["", "+49 30 9"]}
    assert merge["data"]["source"] == {"id": dupe.pk, "name": "Ada L.", "email": "dupe@mail.test"}
    assert merge["data"]["orders_moved"] == 1
    assert merge["object"]["type"] == "client"


def test_an_orders_changes_are_in_its_clients_history(anna):
    api = with_token(anna)
    order = OrderFactory(title="Desk")
    api.patch(f"/api/orders/{order.pk}/", {"status": "DONE"})
    update = history(api, order.client_id)[0]
    assert update["object"] == {"type": "order", "id": order.pk, "repr": "Desk (100.00)"}
    assert update["changes"] == {"status": ["NEW", "DONE"]}


def test_newest_first_in_pages_of_25_with_only_this_clients_entries(anna):
    ada, bob = ClientFactory(), ClientFactory()
    for number in range(29):
        ada.name = f"Ada {number}"
        ada.save()
    bob.save()
    api = logged_in(anna)
    first = api.get(f"/api/clients/{ada.pk}/history/").json()
    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["next"] is not None
    names = [e["changes"]["name"][1] for e in first["results"]]
    assert names == [f"Ada {number}" for number in range(28, 3, -1)]
    second = history(api, ada.pk, "?page=2")
    assert [e["action"] for e in second] == ["update"] * 4 + ["create"]
    assert len(history(api, ada.pk, "?page_size=100")) == 30
    assert api.get(f"/api/clients/{ada.pk}/history/?page=3").status_code == 404
    assert api.get(f"/api/clients/{ada.pk}/history/?page_size=x").status_code == 400


def test_ties_on_the_time_are_newest_id_first(anna):
    ada = ClientFactory()
    ada.name = "Again"
    ada.save()
    Entry.objects.update(timestamp=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    assert [e["action"] for e in history(logged_in(anna), ada.pk)] == ["update", "create"]


@pytest.mark.parametrize("client_id", ["999999", "abc", "1.5", "99999999999999999999999", "%D9%A1"])
def test_a_client_that_does_not_exist_is_a_404(anna, client_id):
    response = logged_in(anna).get(f"/api/clients/{client_id}/history/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_deleted_clients_history_is_a_404(anna):
    ada = ClientFactory()
    pk = ada.pk
    ada.delete()
    assert Entry.objects.filter(client_id=pk).count() == 2  # kept: created, deleted
    assert logged_in(anna).get(f"/api/clients/{pk}/history/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),
        ("sales", 200),
        ("viewer", 200),
        ("viewer with a token", 200),
        ("nobody", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_read_a_history(persona, status):
    ada = ClientFactory()
    roles = {"manager": [MANAGERS], "sales": [SALES], "viewer": [VIEWERS]}
    if persona == "anonymous":
        api = APIClient()
    elif persona == "viewer with a token":
        api = with_token(UserFactory(roles=[VIEWERS]))
    else:
        api = logged_in(UserFactory(roles=roles.get(persona, [])))
    response = api.get(f"/api/clients/{ada.pk}/history/")
    assert response.status_code == status, response.content
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Token"
    if status != 200:
        assert "detail" in response.json()


def test_a_refusal_does_not_say_whether_the_client_exists(nobody):
    api = logged_in(nobody)
    assert api.get("/api/clients/999999/history/").status_code == 403
    assert api.get(f"/api/clients/{ClientFactory().pk}/history/").status_code == 403


def test_public_read_does_not_open_the_history(settings, nobody):
    settings.API_PUBLIC_READ = True
    ada = ClientFactory()
    assert APIClient().get(f"/api/clients/{ada.pk}/history/").status_code == 401
    assert logged_in(nobody).get(f"/api/clients/{ada.pk}/history/").status_code == 403
    assert APIClient().get(f"/api/clients/{ada.pk}/").status_code == 200  # the client is open


def test_the_history_is_read_only(anna):
    ada = ClientFactory()
    api = logged_in(anna)
    assert api.post(f"/api/clients/{ada.pk}/history/", {}).status_code == 405
    assert api.delete(f"/api/clients/{ada.pk}/history/").status_code == 405
    assert Entry.objects.filter(client_id=ada.pk).count() == 1


def test_entries_the_reader_may_not_view_are_left_out():
    ada = ClientFactory()
    OrderFactory(client=ada)
    NoteFactory(client=ada)
    TaskFactory(client=ada)
    reader = UserFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_client"))
    entries = history(logged_in(reader), ada.pk)
    assert [e["object"]["type"] for e in entries] == ["client"]
    reader = UserFactory()
    reader.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_client", "view_note"])
    )
    assert {e["object"]["type"] for e in history(logged_in(reader), ada.pk)} == {"client", "note"}


@pytest.mark.parametrize("count", [2, 20])
def test_the_history_runs_a_constant_number_of_queries(viewer, count):
    ada = ClientFactory()
    for number in range(count - 1):
        ada.name = f"Ada {number}"
        ada.save()
    api = with_token(viewer)
    with CaptureQueriesContext(connection) as ctx:
        entries = history(api, ada.pk, "?page_size=100")
    assert len(entries) == count
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. does the client exist, 5. COUNT(*) of its entries (the paginator)
    # 6. the page of entries joined with their content types (`object.type`: no query per row)
    assert len(ctx.captured_queries) == 6, [q["sql"] for q in ctx.captured_queries]
