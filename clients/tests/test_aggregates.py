"""The list's "Orders" and "Total amount" columns, and Client.objects.active()."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def rows(response):
    return {c.name: (c.orders_count, c.orders_total) for c in response.context["clients"]}


def test_counts_and_sums_are_correct_per_client(member_client):
    a = ClientFactory(name="A")
    OrderFactory(client=a, amount=Decimal("10.10"))
    OrderFactory(client=a, amount=Decimal("0.90"), status=Order.Status.DONE)
    b = ClientFactory(name="B")
    OrderFactory(client=b, amount=Decimal("1234.56"))
    assert rows(member_client.get("/clients/")) == {
        "A": (2, Decimal("11.00")),
        "B": (1, Decimal("1234.56")),
    }


def test_client_without_orders_has_zero_and_zero_point_zero_zero(member_client):
    ClientFactory(name="Nobody")
    response = member_client.get("/clients/")
    count, total = rows(response)["Nobody"]
    assert count == 0
    assert total == Decimal("0.00")
    assert 'data-field="orders_total">0.00</td>' in response.text


def test_totals_are_not_double_counted_when_search_matches_name_and_email(member_client):
    c = ClientFactory(name="Acme Corp", email="buyer@acme.test")
    OrderFactory.create_batch(3, client=c, amount=Decimal("5.00"))
    response = member_client.get("/clients/?q=acme")
    assert rows(response) == {"Acme Corp": (3, Decimal("15.00"))}


def test_totals_are_rendered_with_thousands_and_two_places(member_client):
    c = ClientFactory()
    OrderFactory(client=c, amount=Decimal("1234567.5"))
    assert "1,234,567.50" in member_client.get("/clients/").text


@pytest.mark.parametrize("clients", [2, 50])
def test_list_page_queries_do_not_grow_with_clients_or_orders(
    member_client, clients, session_queries, permission_queries
):
    for _ in range(clients):
        OrderFactory.create_batch(3, client=ClientFactory())
    with CaptureQueriesContext(connection) as ctx:
        assert member_client.get("/clients/").status_code == 200
    # The session (unless cached), 1. the user, its permissions (2), 2. COUNT(*) of clients for the
    # paginator, 3. the page's clients with their order count and total (one GROUP BY over that
    # page).
    assert len(ctx.captured_queries) == session_queries + permission_queries + 3, [
        q["sql"] for q in ctx.captured_queries
    ]


# --- Client.objects.active() -------------------------------------------------------------------


def test_active_returns_clients_with_an_open_order_each_once():
    busy = ClientFactory(name="Busy")
    OrderFactory.create_batch(3, client=busy, status=Order.Status.NEW)
    OrderFactory(client=busy, status=Order.Status.IN_PROGRESS)
    OrderFactory(client=busy, status=Order.Status.DONE)
    started = ClientFactory(name="Started")
    OrderFactory(client=started, status=Order.Status.IN_PROGRESS)
    ClientFactory(name="No orders")
    names = list(Client.objects.active().values_list("name", flat=True))
    assert sorted(names) == ["Busy", "Started"]
    assert Client.objects.active().count() == 2


def test_active_excludes_clients_whose_orders_are_all_done():
    done = ClientFactory(name="Done")
    OrderFactory.create_batch(2, client=done, status=Order.Status.DONE)
    assert not Client.objects.active().exists()


def test_active_composes_with_filters_and_search():
    vip = ClientFactory(name="Vip Active", vip=True)
    OrderFactory(client=vip)
    plain = ClientFactory(name="Plain Active", email="plain@acme.test")
    OrderFactory(client=plain)
    idle_vip = ClientFactory(name="Vip Idle", vip=True)
    OrderFactory(client=idle_vip, status=Order.Status.DONE)

    assert list(Client.objects.active().filter(vip=True)) == [vip]
    assert list(Client.objects.filter(vip=True).active()) == [vip]
    assert list(Client.objects.active().search("acme")) == [plain]
    assert list(Client.objects.search("vip").active()) == [vip]


def test_active_composes_with_the_computed_totals_without_double_counting():
    c = ClientFactory()
    OrderFactory.create_batch(2, client=c, amount=Decimal("3.00"))
    OrderFactory(client=c, amount=Decimal("4.00"), status=Order.Status.DONE)
    row = Client.objects.active().with_computed_totals().get()
    computed = (row.computed_orders_count, row.computed_orders_total)
    assert computed == (row.orders_count, row.orders_total) == (3, Decimal("10.00"))
    assert row.computed_open_orders_count == row.open_orders_count == 2
