"""An import's history (history/): one entry per batch of created rows, one per updated client
(one INSERT per chunk), one for a revert; recorded as through the import by its user, in the
request, the API or the worker alike."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, UserFactory
from history.context import Via, recorded_as
from history.models import Entry
from imports import services, tasks
from imports.models import Import
from imports.tests.files import CLIENT_HEADER, csv_bytes, upload
from timeline.models import Note, Task

pytestmark = pytest.mark.django_db

ORDER_HEADER = ["Client email", "Title", "Amount", "Status", "Created at"]


@pytest.fixture
def importer(db):
    return UserFactory(username="importer", roles=["Managers"])


def start(user, rows, *, kind="clients", name="clients.csv", **options) -> Import:
    batch = services.import_create(
        user=user, kind=kind, upload=upload(csv_bytes(rows), name), **options
    )
    return services.import_check(import_id=batch.pk)


def clients(count: int, prefix="n"):
    return [CLIENT_HEADER, *([f"N{i}", f"{prefix}{i}@mail.test", ""] for i in range(count))]


def history_inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "history_entry"')]


def import_entries(batch: Import):
    return Entry.objects.filter(
        content_type=ContentType.objects.get_for_model(Import), object_id=batch.pk
    ).order_by("pk")


# --- The commit -----------------------------------------------------------------------------


def test_an_import_of_clients_in_two_batches_records_two_entries(importer, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 4)
    batch = start(importer, clients(5))

    with CaptureQueriesContext(connection) as queries:
        batch = services.import_commit(import_id=batch.pk)

    assert batch.status == Import.Status.DONE
    assert len(history_inserts(queries)) == 2  # one a batch, none a row
    entries = list(import_entries(batch))
    assert [e.additional_data for e in entries] == [
        {"import": batch.pk, "file": "clients.csv", "model": "client", "created": 4},
        {"import": batch.pk, "file": "clients.csv", "model": "client", "created": 1},
    ]
    assert {
        (e.event, e.action, e.via, e.actor_id, e.actor_label, e.client_id) for e in entries
    } == {(Entry.Event.IMPORT, Entry.Action.CREATE, Via.IMPORT, importer.pk, "importer", None)}
    assert Entry.objects.count() == 2  # nothing about each created client


def test_an_import_of_orders_records_one_entry_a_batch_under_no_client(importer, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    ann = ClientFactory(email="ann@mail.test")
    Entry.objects.all().delete()
    rows = [ORDER_HEADER, *(["ann@mail.test", f"T{i}", "5", "NEW", ""] for i in range(3))]
    batch = start(importer, rows, kind="orders", name="orders.csv")

    batch = services.import_commit(import_id=batch.pk)

    assert Order.objects.filter(client=ann).count() == 3
    assert [e.additional_data["created"] for e in import_entries(batch)] == [2, 1]
    assert {e.additional_data["model"] for e in import_entries(batch)} == {"order"}
    assert Entry.objects.count() == 2


def test_an_update_records_one_entry_per_updated_client_in_one_insert_a_chunk(importer):
    bob = ClientFactory(email="bob@mail.test", name="Bob", phone="")
    cy = ClientFactory(email="cy@mail.test", name="Cy", phone="+3 3")
    ClientFactory(email="dee@mail.test", name="Dee", phone="+4 4")
    Entry.objects.all().delete()
    batch = start(
        importer,
        [
            CLIENT_HEADER,
            ["Ann", "ann@mail.test", ""],  # created
            ["Bob", "bob@mail.test", "+2 2"],  # fills the phone
            ["Cy Renamed", "cy@mail.test", "+3 3"],  # a new name
            ["Dee", "dee@mail.test", "+4 4"],  # unchanged
        ],
        on_duplicate="update",
    )
    assert (batch.created, batch.updated, batch.unchanged) == (1, 2, 1)

    with CaptureQueriesContext(connection) as queries:
        batch = services.import_commit(import_id=batch.pk)

    # The created batch's entry, then the updated chunk's entries in one INSERT.
    assert len(history_inserts(queries)) == 2
    updates = Entry.objects.filter(client_id__isnull=False).order_by("client_id")
    assert [(e.client_id, e.changes) for e in updates] == [
        (bob.pk, {"phone": ["", "+2 2"]}),
        (cy.pk, {"name": ["Cy", "Cy Renamed"]}),
    ]
    for entry in updates:
        assert (entry.event, entry.action, entry.via, entry.actor_label) == (
            Entry.Event.IMPORT,
            Entry.Action.UPDATE,
            Via.IMPORT,
            "importer",
        )
        assert entry.additional_data == {"import": batch.pk}
        assert entry.content_type == ContentType.objects.get_for_model(Client)
        assert entry.object_id == entry.client_id
    assert import_entries(batch).count() == 1


def test_the_commit_from_the_page_records_the_import_not_the_page(member_client, member):
    batch = start(member, clients(2))

    member_client.post(f"/imports/{batch.pk}/commit/")

    batch.refresh_from_db()
    assert batch.status == Import.Status.DONE
    entry = import_entries(batch).get()
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.IMPORT, "member", member.pk)


def test_the_worker_records_the_import_by_its_user_whatever_its_own_context(importer):
    batch = start(importer, clients(2))
    Import.objects.filter(pk=batch.pk).update(stage=Import.Stage.SAVING)

    # Even under another source (an eager task inside someone's request), the import's own.
    other = UserFactory(username="other")
    with recorded_as(Via.PAGE, user=other):
        tasks.commit.apply(args=[batch.pk])

    entry = import_entries(batch).get()
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.IMPORT, "importer", importer.pk)


def test_an_import_whose_user_is_gone_is_recorded_as_system(importer):
    batch = start(importer, clients(1))
    Import.objects.filter(pk=batch.pk).update(user=None)

    services.import_commit(import_id=batch.pk)

    entry = import_entries(batch).get()
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.IMPORT, "system", None)


def test_a_failed_import_records_nothing(importer):
    batch = start(importer, [CLIENT_HEADER, ["Ann", "ann@mail.test", ""], ["", "bad", ""]])

    batch = services.import_commit(import_id=batch.pk)  # invalid rows, not skipped

    assert batch.status == Import.Status.FAILED
    assert not Entry.objects.exists()


# --- The revert -----------------------------------------------------------------------------


def test_a_revert_records_one_entry_and_none_a_deleted_row(importer, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 4)
    batch = services.import_commit(import_id=start(importer, clients(7)).pk)
    Entry.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        batch = services.import_revert(import_id=batch.pk, user=importer)

    assert batch.status == Import.Status.REVERTED
    assert not Client.objects.exists()
    assert len(history_inserts(queries)) == 1
    entry = Entry.objects.get()
    assert (entry.event, entry.client_id, entry.object_id) == (Entry.Event.REVERT, None, batch.pk)
    assert entry.additional_data == {
        "import": batch.pk,
        "file": "clients.csv",
        "clients_deleted": 7,
        "orders_deleted": 0,
        "clients_restored": 0,
        "kept": 0,
    }
    # No request: by the user who reverted, through what the caller runs as (a command).
    assert (entry.actor_label, entry.via) == ("importer", Via.COMMAND)


def test_a_revert_of_an_orders_import_records_one_entry(importer):
    ClientFactory(email="ann@mail.test")
    rows = [ORDER_HEADER, *(["ann@mail.test", f"T{i}", "5", "NEW", ""] for i in range(4))]
    batch = services.import_commit(
        import_id=start(importer, rows, kind="orders", name="orders.csv").pk
    )
    Entry.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        services.import_revert(import_id=batch.pk, user=importer)

    assert not Order.objects.exists()
    assert len(history_inserts(queries)) == 1
    assert Entry.objects.get().additional_data["orders_deleted"] == 4


def test_a_revert_records_the_fields_it_put_back_on_each_client(importer):
    bob = ClientFactory(email="bob@mail.test", name="Bob", phone="")
    cy = ClientFactory(email="cy@mail.test", name="Cy", phone="+3 3")
    batch = start(
        importer,
        [CLIENT_HEADER, ["Bob", "bob@mail.test", "+2 2"], ["Cy New", "cy@mail.test", "+3 3"]],
        on_duplicate="update",
    )
    batch = services.import_commit(import_id=batch.pk)
    Client.objects.filter(pk=cy.pk).update(name="Cy Edited")  # since: kept
    Entry.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        services.import_revert(import_id=batch.pk, user=importer)

    # The revert's own entry, and the put-back clients' entries in one INSERT.
    assert len(history_inserts(queries)) == 2
    revert = Entry.objects.get(client_id=None)
    assert revert.additional_data["clients_restored"] == 1
    assert revert.additional_data["kept"] == 1
    restored = Entry.objects.get(client_id__isnull=False)
    assert (restored.client_id, restored.changes, restored.event) == (
        bob.pk,
        {"phone": ["+2 2", ""]},
        Entry.Event.REVERT,
    )
    assert restored.additional_data == {"import": batch.pk}


def test_a_revert_from_the_page_is_recorded_as_the_page_by_its_user(member_client, member):
    batch = services.import_commit(import_id=start(member, clients(2)).pk)

    member_client.post(f"/imports/{batch.pk}/revert/")

    entry = Entry.objects.get(event=Entry.Event.REVERT)
    assert (entry.via, entry.actor_label) == (Via.PAGE, "member")


@pytest.mark.parametrize("model", [Note, Task])
def test_a_revert_keeps_a_created_client_with_a_note_or_a_task_since(importer, model):
    batch = services.import_commit(import_id=start(importer, clients(2)).pk)
    worked_on = Client.objects.get(email="n0@mail.test")
    if model is Note:
        Note.objects.create(client=worked_on, author=importer, body="Called")
    else:
        Task.objects.create(client=worked_on, title="Call back", due_at="2030-01-01T09:00Z")

    batch = services.import_revert(import_id=batch.pk, user=importer)

    assert list(Client.objects.values_list("email", flat=True)) == ["n0@mail.test"]
    assert batch.kept == [
        "Client n0@mail.test was kept: it has notes or tasks added since the import."
    ]
