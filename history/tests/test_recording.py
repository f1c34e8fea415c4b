"""What every path records (history/): creates, changes {field: [old, new]} and deletes, by
whom and through what, at most one INSERT into the history per changed row."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from history.context import Via, recorded_as
from history.models import Entry
from orders.services import order_move
from timeline.models import Note, Task

pytestmark = pytest.mark.django_db

CREATE, UPDATE, DELETE = Entry.Action.CREATE, Entry.Action.UPDATE, Entry.Action.DELETE


def history_inserts(queries) -> int:
    return sum(q["sql"].startswith('INSERT INTO "history_entry"') for q in queries)


def of(model, **filters):
    content_type = ContentType.objects.get_for_model(model)
    return Entry.objects.filter(content_type=content_type, **filters).order_by("pk")


def client_form(client: Client | None = None, **changes) -> dict:
    data = {"name": "Ada Lovelace", "email": "ada@mail.test", "phone": "+44 20 1"}
    if client is not None:
        data = {"name": client.name, "email": client.email, "phone": client.phone}
    return {**data, **changes}


# --- Clients through the pages ----------------------------------------------------------------


def test_a_client_added_on_the_page_records_its_create(member_client, member):
    response = member_client.post("/clients/add/", client_form())

    assert response.status_code == 302
    ada = Client.objects.get()
    entry = of(Client).get()
    assert (entry.action, entry.object_id, entry.client_id) == (CREATE, ada.pk, ada.pk)
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.PAGE, "member", member.pk)
    assert entry.changes["name"] == [None, "Ada Lovelace"]
    assert entry.changes["email"] == [None, "ada@mail.test"]
    assert entry.event == ""


def test_a_client_edited_on_the_page_records_the_changed_fields_old_and_new(member_client):
    ada = ClientFactory(name="Ada", email="ada@mail.test", phone="+44 20 1")

    with CaptureQueriesContext(connection) as queries:
        response = member_client.post(
            f"/clients/{ada.pk}/edit/", client_form(ada, phone="+44 20 2")
        )

    assert response.status_code == 302
    assert history_inserts(queries) == 1  # one field of one client: one INSERT
    entry = of(Client, action=UPDATE).get()
    assert entry.changes == {"phone": ["+44 20 1", "+44 20 2"]}
    assert (entry.via, entry.actor_label, entry.client_id) == (Via.PAGE, "member", ada.pk)


def test_a_page_save_that_changes_nothing_records_nothing(member_client):
    ada = ClientFactory()
    member_client.post(f"/clients/{ada.pk}/edit/", client_form(ada))
    assert not of(Client, action=UPDATE).exists()


def test_a_client_deleted_on_the_page_records_its_delete(member_client):
    ada = ClientFactory(name="Ada")

    response = member_client.post(f"/clients/{ada.pk}/edit/delete/")

    assert response.status_code == 302
    entry = of(Client, action=DELETE).get()
    assert (entry.object_id, entry.client_id, entry.object_repr) == (
        ada.pk,
        ada.pk,
        str(ada),
    )
    assert (entry.via, entry.actor_label) == (Via.PAGE, "member")


def test_deleting_a_client_with_50_orders_notes_and_tasks_records_one_entry(member_client):
    ada = ClientFactory()
    OrderFactory.create_batch(50, client=ada)
    Note.objects.create(client=ada, body="Called")
    Task.objects.create(client=ada, title="Call back", due_at="2030-01-01T09:00Z")
    Entry.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        response = member_client.post(f"/clients/{ada.pk}/edit/delete/")

    assert response.status_code == 302
    assert not Order.objects.exists()
    assert history_inserts(queries) == 1  # the client's delete; its cascade is not recorded
    entry = Entry.objects.get()
    assert (entry.action, entry.content_type.model) == (DELETE, "client")


def test_an_order_deleted_on_its_own_is_recorded(member_client):
    order = OrderFactory()
    pk = order.pk
    Entry.objects.all().delete()
    order.delete()
    entry = Entry.objects.get()
    assert (entry.action, entry.client_id, entry.object_id) == (DELETE, order.client_id, pk)


# --- Orders -----------------------------------------------------------------------------------


def test_creating_an_order_writes_exactly_one_insert_into_the_history():
    ada = ClientFactory()

    with CaptureQueriesContext(connection) as queries:
        order = Order.objects.create(client=ada, title="Desk", amount=Decimal("10.00"))

    assert history_inserts(queries) == 1
    entry = of(Order).get()
    assert (entry.action, entry.client_id, entry.object_id) == (CREATE, ada.pk, order.pk)
    assert entry.changes["title"] == [None, "Desk"]
    assert entry.changes["client"] == [None, ada.pk]
    # The roll-ups it changed on the client are the order's history, not the client's.
    assert not of(Client, action=UPDATE).exists()


def test_an_order_added_on_the_page_is_recorded_by_its_user(member_client):
    ada = ClientFactory()

    member_client.post(
        f"/clients/{ada.pk}/orders/add/", {"title": "Desk", "amount": "10", "status": "NEW"}
    )

    entry = of(Order).get()
    assert (entry.action, entry.via, entry.actor_label, entry.client_id) == (
        CREATE,
        Via.PAGE,
        "member",
        ada.pk,
    )


def test_an_order_edit_records_title_amount_and_client(member_client):
    ada, bob = ClientFactory(), ClientFactory()
    order = OrderFactory(client=ada, title="Desk", amount=Decimal("10.00"))
    Entry.objects.all().delete()

    order.title, order.amount, order.client = "Chair", Decimal("12.50"), bob
    order.save()

    entry = of(Order, action=UPDATE).get()
    assert entry.changes == {
        "title": ["Desk", "Chair"],
        "amount": ["10.00", "12.50"],
        "client": [ada.pk, bob.pk],
    }
    assert entry.client_id == bob.pk  # the order's client now


def test_an_order_status_changed_on_the_client_page_records_old_and_new(member_client):
    order = OrderFactory(status=Order.Status.NEW)

    with CaptureQueriesContext(connection) as queries:
        response = member_client.post(
            f"/clients/{order.client_id}/orders/{order.pk}/status/", {"status": "DONE"}
        )

    assert response.status_code == 302
    assert history_inserts(queries) == 1
    entry = of(Order, action=UPDATE).get()
    assert entry.changes == {"status": ["NEW", "DONE"]}
    assert (entry.via, entry.actor_label, entry.client_id) == (
        Via.PAGE,
        "member",
        order.client_id,
    )


def test_the_boards_move_records_the_status_old_and_new(member):
    order = OrderFactory(status=Order.Status.NEW)

    with recorded_as(Via.PAGE, user=member):
        order_move(order_id=order.pk, status=Order.Status.IN_PROGRESS)

    entry = of(Order, action=UPDATE).get()
    assert entry.changes == {"status": ["NEW", "IN_PROGRESS"]}
    assert (entry.via, entry.actor_label) == (Via.PAGE, "member")


def test_the_boards_move_through_its_page(member_client):
    order = OrderFactory(status=Order.Status.NEW)

    member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"})

    entry = of(Order, action=UPDATE).get()
    assert (entry.changes, entry.via, entry.actor_label) == (
        {"status": ["NEW", "DONE"]},
        Via.PAGE,
        "member",
    )


def test_a_move_to_the_same_status_records_nothing(member):
    order = OrderFactory(status=Order.Status.NEW)
    order_move(order_id=order.pk, status=Order.Status.NEW)
    assert not of(Order, action=UPDATE).exists()


# --- Through the admin ------------------------------------------------------------------------


def admin_client_form(client: Client | None = None, orders=(), **changes) -> dict:
    data = client_form(client, **changes)
    data.update(
        {
            "orders-TOTAL_FORMS": str(len(orders)),
            "orders-INITIAL_FORMS": str(len(orders)),
            "orders-MIN_NUM_FORMS": "0",
            "orders-MAX_NUM_FORMS": "1000",
        }
    )
    for index, order in enumerate(orders):
        data.update(
            {
                f"orders-{index}-id": str(order.pk),
                f"orders-{index}-client": str(order.client_id),
                f"orders-{index}-title": order.title,
                f"orders-{index}-amount": str(order.amount),
                f"orders-{index}-status": order.status,
            }
        )
    return data


def test_a_client_added_in_the_admin_is_recorded_as_the_admin(staff_client):
    response = staff_client.post("/admin/clients/client/add/", admin_client_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = of(Client).get()
    assert (entry.action, entry.via, entry.actor_label) == (CREATE, Via.ADMIN, "staff")


def test_a_client_and_an_order_edited_in_the_admin_each_record_one_entry(staff_client):
    ada = ClientFactory(name="Ada")
    order = OrderFactory(client=ada, title="Desk")
    Entry.objects.all().delete()
    data = admin_client_form(ada, orders=[order], name="Ada L.")
    data["orders-0-title"] = "Chair"

    with CaptureQueriesContext(connection) as queries:
        response = staff_client.post(f"/admin/clients/client/{ada.pk}/change/", data)

    assert response.status_code == 302
    assert history_inserts(queries) == 2  # two rows changed
    assert of(Client).get().changes == {"name": ["Ada", "Ada L."]}
    assert of(Order).get().changes == {"title": ["Desk", "Chair"]}
    assert set(Entry.objects.values_list("via", "actor_label")) == {(Via.ADMIN, "staff")}


def test_a_client_deleted_in_the_admin_is_recorded_as_the_admin(staff_client):
    ada = ClientFactory()
    OrderFactory.create_batch(3, client=ada)
    Entry.objects.all().delete()

    response = staff_client.post(f"/admin/clients/client/{ada.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.action, entry.via, entry.content_type.model) == (DELETE, Via.ADMIN, "client")


def test_clients_deleted_by_the_admins_bulk_action_record_one_entry_each(staff_client):
    clients = ClientFactory.create_batch(2)
    for client in clients:
        OrderFactory.create_batch(5, client=client)
    Entry.objects.all().delete()

    staff_client.post(
        "/admin/clients/client/",
        {"action": "delete_selected", "_selected_action": [c.pk for c in clients], "post": "yes"},
    )

    assert not Client.objects.exists()
    assert sorted(Entry.objects.values_list("object_id", flat=True)) == sorted(
        c.pk for c in clients
    )


# --- The merge --------------------------------------------------------------------------------


def test_a_merge_records_one_entry_on_the_kept_client_and_moves_the_orders_history():
    kept = ClientFactory(name="Ada", phone="")
    gone = ClientFactory(name="Ada Duplicate", phone="+44 20 9")
    orders = OrderFactory.create_batch(3, client=gone)
    earlier = set(of(Order).values_list("pk", flat=True))
    assert earlier
    assert set(of(Order).values_list("client_id", flat=True)) == {gone.pk}

    with CaptureQueriesContext(connection) as queries:
        client_merge(source_id=gone.pk, target_id=kept.pk)

    merge = Entry.objects.get(event=Entry.Event.MERGE)
    assert (merge.client_id, merge.object_id, merge.action) == (kept.pk, kept.pk, UPDATE)
    assert merge.additional_data == {
        "source": {"id": gone.pk, "name": "Ada Duplicate", "email": gone.email},
        "orders_moved": 3,
    }
    assert merge.changes == {"phone": ["", "+44 20 9"]}  # the field the merge filled
    # The moved orders' earlier entries now belong to the kept client; no entry per order.
    assert set(of(Order).values_list("pk", flat=True)) == earlier
    assert set(of(Order).values_list("client_id", flat=True)) == {kept.pk}
    assert {o.pk for o in orders} == set(of(Order).values_list("object_id", flat=True))
    # The merged-away client's own history stays under its id, with its delete.
    assert list(of(Client, client_id=gone.pk).values_list("action", flat=True)) == [
        CREATE,
        DELETE,
    ]
    assert history_inserts(queries) == 2  # the merge, the source's delete


def test_a_merge_on_the_page_is_recorded_by_its_user(member_client):
    kept, gone = ClientFactory(), ClientFactory()

    member_client.post("/clients/merge/", {"source": gone.pk, "target": kept.pk})

    merge = Entry.objects.get(event=Entry.Event.MERGE)
    assert (merge.via, merge.actor_label) == (Via.PAGE, "member")


# --- Who, when no one is logged in ------------------------------------------------------------


def test_a_write_outside_any_request_is_the_systems_through_a_command():
    ClientFactory()
    entry = Entry.objects.get()
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.COMMAND, "system", None)


def test_an_anonymous_source_is_the_system(db):
    from django.contrib.auth.models import AnonymousUser

    with recorded_as(Via.PAGE, user=AnonymousUser()):
        ClientFactory()
    assert Entry.objects.get().actor_label == "system"


def test_the_label_outlives_the_user():
    user = UserFactory(username="leaver")
    with recorded_as(Via.PAGE, user=user):
        ClientFactory()
    user.delete()
    entry = Entry.objects.get()
    assert (entry.actor_id, entry.actor_label) == (None, "leaver")
