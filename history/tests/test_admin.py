"""The history in the admin: the entries' list, read-only for everyone (superusers included),
and a client's (or an order's) History page listing our entries."""

import pytest
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory
from history.admin import EntryAdmin, summary
from history.context import Via, recorded_as
from history.models import Entry

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/history/entry/"


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def ada(db):
    ada = ClientFactory(name="Ada", email="ada@mail.test", phone="+1 1")
    ada.phone = "+2 2"
    ada.save()
    return ada


def test_our_admin_replaces_django_auditlogs():
    assert isinstance(site._registry[Entry], EntryAdmin)


# --- Read-only for everyone --------------------------------------------------------------------


def test_the_list_shows_who_when_through_what_and_what_changed(root_client, ada):
    response = root_client.get(ENTRIES)

    assert response.status_code == 200
    html = response.text
    assert "Ada" in html
    assert "Phone: +1 1 → +2 2" in html
    assert f'href="/admin/clients/client/{ada.pk}/history/"' in html  # the client's id
    assert f'href="/admin/clients/client/{ada.pk}/change/"' in html  # the object
    for column in ("column-timestamp", "column-actor_label", "column-via", "column-what"):
        assert column in html
    assert "column-changes_summary" in html


def test_a_superuser_may_not_add_change_or_delete_an_entry(root_client, ada):
    entry = Entry.objects.first()
    page = root_client.get(ENTRIES).text
    assert f"{ENTRIES}add/" not in page  # no Add button
    assert 'name="action"' not in page  # no actions (delete selected)

    assert root_client.get(f"{ENTRIES}add/").status_code == 403
    assert root_client.post(f"{ENTRIES}add/", {"actor_label": "forged"}).status_code == 403
    assert root_client.get(f"{ENTRIES}{entry.pk}/delete/").status_code == 403
    assert root_client.post(f"{ENTRIES}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = root_client.post(
        ENTRIES, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert response.status_code in (200, 302)
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_an_entrys_page_is_for_reading_only(root_client, ada):
    entry = Entry.objects.filter(action=Entry.Action.UPDATE).get()

    response = root_client.get(f"{ENTRIES}{entry.pk}/change/")

    assert response.status_code == 200
    html = response.text
    assert 'name="_save"' not in html
    assert "deletelink" not in html
    assert "<td>+1 1</td><td>+2 2</td>" in html  # the changes, field by field
    before = Entry.objects.values().get(pk=entry.pk)
    root_client.post(f"{ENTRIES}{entry.pk}/change/", {"actor_label": "forged", "via": "api"})
    assert Entry.objects.values().get(pk=entry.pk) == before


def test_staff_without_the_history_permission_may_not_see_the_list(staff_client, ada):
    assert staff_client.get(ENTRIES).status_code == 403


def test_the_list_filters_by_via_action_and_object_type(root_client, ada, member):
    with recorded_as(Via.API, user=member):
        OrderFactory(client=ada, title="Desk")

    def listed(query: str) -> set[str]:
        changelist = root_client.get(f"{ENTRIES}?{query}").context["cl"]
        return {entry.object_repr for entry in changelist.result_list}

    order = ContentType.objects.get_for_model(Order)
    assert listed("via__exact=api") == {"Desk (100.00)"}
    assert listed(f"content_type={order.pk}") == {"Desk (100.00)"}
    assert listed("action__exact=1") == {str(ada)}
    assert listed("via__exact=admin") == set()
    # The object-type filter offers the models that have a history, not every content type.
    filters = root_client.get(ENTRIES).text
    assert "Order" in filters
    assert "Permission" not in filters


def test_the_list_searches_names_users_and_ids(root_client, ada, member):
    other = ClientFactory(name="Grace", email="grace@mail.test")  # no digits: ids are searched
    with recorded_as(Via.PAGE, user=member):
        other.phone = "+9 9"
        other.save()

    def found(term: str) -> set[int]:
        changelist = root_client.get(ENTRIES, {"q": term}).context["cl"]
        return {entry.client_id for entry in changelist.result_list}

    assert found("Grace") == {other.pk}
    assert found("member") == {other.pk}
    assert found(str(ada.pk)) == {ada.pk}
    assert found("no such thing") == set()


def test_the_list_costs_the_same_queries_for_2_or_40_entries(root_client, ada):
    root_client.get(ENTRIES)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert root_client.get(ENTRIES).status_code == 200
        return len(captured)

    few = queries()
    OrderFactory.create_batch(38, client=ada)
    assert queries() == few


def test_a_bulk_entrys_summary_says_what_it_did():
    entry = Entry(
        event=Entry.Event.MERGE,
        action=Entry.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(Client),
        changes={"vip": [False, True]},
        additional_data={"source": {"id": 7, "name": "Ada Dup", "email": "a@x"}, "orders_moved": 2},
    )
    assert summary(entry) == ("Merged in “Ada Dup” (#7): 2 orders moved; VIP: no → yes")


# --- A client's History page ----------------------------------------------------------------


def history_rows(response) -> list[Entry]:
    return [row["entry"] for row in response.context["rows"]]


def test_the_client_admins_history_lists_its_entries_newest_first(staff_client, ada, member):
    order = OrderFactory(client=ada, title="Desk")
    with recorded_as(Via.PAGE, user=member):
        order.status = Order.Status.DONE
        order.save()
    ClientFactory(name="Someone else")

    response = staff_client.get(f"/admin/clients/client/{ada.pk}/history/")

    assert response.status_code == 200
    rows = history_rows(response)
    assert [(e.content_type.model, e.action) for e in rows] == [
        ("order", Entry.Action.UPDATE),
        ("order", Entry.Action.CREATE),
        ("client", Entry.Action.UPDATE),
        ("client", Entry.Action.CREATE),
    ]
    html = response.text
    assert "Status</strong>: New → Done" in html
    assert "member" in html
    assert "Someone else" not in html
    assert "<form" not in html.split('id="change-history"')[1]  # nothing to submit


def test_the_client_change_page_links_to_its_history(staff_client, ada):
    html = staff_client.get(f"/admin/clients/client/{ada.pk}/change/").text
    assert f'href="/admin/clients/client/{ada.pk}/history/"' in html


def test_the_client_admins_history_is_paginated(staff_client, ada):
    OrderFactory.create_batch(60, client=ada)  # 60 + the client's 2: 62 entries

    first = staff_client.get(f"/admin/clients/client/{ada.pk}/history/")
    second = staff_client.get(f"/admin/clients/client/{ada.pk}/history/?p=2")

    assert len(history_rows(first)) == 50
    assert len(history_rows(second)) == 12
    assert "62 entries" in first.text
    assert 'href="?p=2"' in first.text


def test_the_client_admins_history_costs_the_same_queries_for_2_or_40_entries(staff_client, ada):
    url = f"/admin/clients/client/{ada.pk}/history/"
    staff_client.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    OrderFactory.create_batch(38, client=ada)
    assert queries() == few


def test_a_deleted_clients_history_stays_readable_in_the_admin(staff_client, ada):
    pk = ada.pk
    ada.delete()

    response = staff_client.get(f"/admin/clients/client/{pk}/history/")

    assert response.status_code == 200
    assert history_rows(response)[0].action == Entry.Action.DELETE
    assert f"deleted client #{pk}" in response.text


def test_a_client_that_never_existed_redirects_like_the_admin_does(staff_client):
    response = staff_client.get("/admin/clients/client/999999/history/")
    assert response.status_code == 302


def test_the_history_page_needs_the_clients_view_permission(client, ada):
    client.force_login(UserFactory(username="outsider", is_staff=True))
    assert client.get(f"/admin/clients/client/{ada.pk}/history/").status_code == 403


def test_the_order_admins_history_lists_the_orders_entries(staff_client, ada):
    order = OrderFactory(client=ada, title="Desk")
    order.title = "Chair"
    order.save()
    OrderFactory(client=ada, title="Other")

    response = staff_client.get(f"/admin/clients/order/{order.pk}/history/")

    assert response.status_code == 200
    rows = history_rows(response)
    assert [e.object_id for e in rows] == [order.pk, order.pk]
    assert "Title</strong>: Desk → Chair" in response.text


def test_a_changed_time_reads_in_the_local_time_zone(settings):
    """auditlog stores it as naive UTC text; the summary shows it as the pages do."""
    import datetime
    import zoneinfo

    from django.utils import timezone

    from timeline.tests.factories import TaskFactory

    task = TaskFactory(due_at=datetime.datetime(2026, 12, 24, 8, 0, tzinfo=datetime.UTC))
    task.due_at = datetime.datetime(2026, 12, 24, 9, 30, tzinfo=datetime.UTC)
    task.save()
    entry = Entry.objects.filter(action=Entry.Action.UPDATE).latest("id")
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        text = summary(entry)
    assert "2026-12-24 08:00:00" not in text
    assert "Dec 24, 2026 09:00" in text  # 08:00 UTC, in DATETIME_FORMAT (mini_crm/formats/en)
    assert "Dec 24, 2026 10:30" in text
