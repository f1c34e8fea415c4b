from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client, Order, TrashedClient
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_guest_is_redirected_to_login(client):
    c = ClientFactory()
    response = client.get(f"/clients/{c.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/clients/{c.pk}/"


def test_unknown_client_is_404(member_client):
    assert member_client.get("/clients/999999/").status_code == 404


def test_shows_details_totals_and_links(member_client):
    c = ClientFactory(name="Ada Lovelace", email="ada@mail.test", phone="+49 30 1", vip=True)
    OrderFactory(client=c, amount=Decimal("1234.50"))
    OrderFactory(client=c, amount=Decimal("0.25"))
    html = member_client.get(f"/clients/{c.pk}/").text
    assert "<h1>Ada Lovelace" in html
    assert "ada@mail.test" in html
    assert "+49 30 1" in html
    assert 'title="VIP client">VIP</span>' in html
    assert '<dd class="num" data-field="orders_count">2</dd>' in html
    assert '<dd class="num" data-field="orders_total">1,234.75</dd>' in html
    assert f'href="/clients/{c.pk}/edit/"' in html
    assert f'href="/clients/{c.pk}/edit/delete/"' in html
    assert f'href="/clients/{c.pk}/orders/add/"' in html
    assert ">AL</span>" in html


def test_orders_newest_first_with_status_badges_and_formatted_amounts(member_client):
    c = ClientFactory()
    old = OrderFactory(client=c, title="Old one", amount=Decimal("1000"))
    new = OrderFactory(client=c, title="New one", status=Order.Status.IN_PROGRESS)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    response = member_client.get(f"/clients/{c.pk}/")
    assert [o.pk for o in response.context["orders"]] == [new.pk, old.pk]
    html = response.text
    assert html.index("New one") < html.index("Old one")
    assert '<span class="status status-IN_PROGRESS">In progress</span>' in html
    assert '<span class="status status-NEW">New</span>' in html
    assert '<td class="num" data-field="amount">1,000.00</td>' in html


def test_other_clients_orders_are_not_shown(member_client):
    c = ClientFactory()
    OrderFactory(title="Someone else's")
    html = member_client.get(f"/clients/{c.pk}/").text
    assert "Someone else" not in html


def test_client_without_orders_shows_an_empty_state_and_zero_totals(member_client):
    c = ClientFactory()
    html = member_client.get(f"/clients/{c.pk}/").text
    assert "No orders yet." in html
    assert '<dd class="num" data-field="orders_total">0.00</dd>' in html
    assert 'id="order-table"' not in html


def test_orders_are_paginated_25_a_page(member_client):
    c = ClientFactory()
    OrderFactory.create_batch(30, client=c)
    page1 = member_client.get(f"/clients/{c.pk}/")
    assert len(page1.context["orders"]) == 25
    assert 'href="?page=2" rel="next"' in page1.text
    page2 = member_client.get(f"/clients/{c.pk}/?page=2")
    assert len(page2.context["orders"]) == 5
    # A junk page number shows a real page rather than an error.
    assert member_client.get(f"/clients/{c.pk}/?page=junk").status_code == 200


def test_each_row_has_an_accessible_quick_status_form(member_client):
    c = ClientFactory()
    o = OrderFactory(client=c, title="Widget", status=Order.Status.IN_PROGRESS)
    html = member_client.get(f"/clients/{c.pk}/").text
    assert f'action="/clients/{c.pk}/orders/{o.pk}/status/"' in html
    assert f'<label for="status-{o.pk}" class="visually-hidden">Status of “Widget”</label>' in html
    assert '<option value="IN_PROGRESS" selected>' in html
    assert f'href="/clients/{c.pk}/orders/{o.pk}/edit/"' in html


@pytest.mark.parametrize("orders", [2, 20])
def test_client_page_runs_a_constant_number_of_queries(member_client, orders, session_queries):
    c = ClientFactory()
    OrderFactory.create_batch(orders, client=c)
    with CaptureQueriesContext(connection) as ctx:
        assert member_client.get(f"/clients/{c.pk}/").status_code == 200
    # The session (unless cached), 1. the user, 2. the client with its order totals,
    # 3. COUNT(*) of its orders for the paginator, 4. the page of orders,
    # 5.-6. the member's user and group permissions (is the "Merge…" link shown?);
    # the timeline (timeline/selectors.py): 7. the page's UNION of each kind's newest rows,
    # 8. its history entries (the client's creation), 9. its orders, by id; 10. the open tasks
    # ("Next up"), 11. the users a new task can be given to.
    assert len(ctx.captured_queries) == session_queries + 11, [
        q["sql"] for q in ctx.captured_queries
    ]


def test_client_list_links_the_name_to_the_client_page_and_keeps_edit(member_client):
    c = ClientFactory(name="Ada")
    html = member_client.get("/clients/").text
    assert f'<a href="/clients/{c.pk}/"><strong>Ada</strong></a>' in html
    assert f'<td class="row-actions"><a href="/clients/{c.pk}/edit/">Edit</a></td>' in html


def test_delete_confirmation_states_how_many_orders_go_with_it(member_client):
    c = ClientFactory(name="Gone")
    OrderFactory.create_batch(3, client=c)
    html = member_client.get(f"/clients/{c.pk}/edit/delete/").text
    assert "Its 3 orders go with it, and come back with it." in html
    assert "will be moved to the trash, restorable until" in html


@pytest.mark.parametrize(
    ("orders", "text"), [(0, "It has no orders."), (1, "Its 1 order goes with it")]
)
def test_delete_confirmation_pluralises_the_order_count(member_client, orders, text):
    c = ClientFactory()
    OrderFactory.create_batch(orders, client=c)
    assert text in member_client.get(f"/clients/{c.pk}/edit/delete/").text


def test_delete_removes_the_orders_and_the_message_counts_them(member_client):
    c = ClientFactory(name="Gone")
    OrderFactory.create_batch(3, client=c)
    kept = OrderFactory()
    response = member_client.post(f"/clients/{c.pk}/edit/delete/", follow=True)
    assert response.redirect_chain == [("/clients/", 302)]
    assert "“Gone” and its 3 orders were moved to the trash, restorable until" in response.text
    assert not Client.objects.filter(pk=c.pk).exists()
    assert list(Order.objects.all()) == [kept]
    assert TrashedClient.objects.get().orders_count == 3


def test_delete_message_for_one_order_is_singular(member_client):
    c = ClientFactory(name="Gone")
    OrderFactory(client=c)
    response = member_client.post(f"/clients/{c.pk}/edit/delete/", follow=True)
    assert "“Gone” and its 1 order were moved to the trash" in response.text


def test_shows_open_orders_and_links_to_the_clients_orders_list(member_client):
    c = ClientFactory()
    OrderFactory(client=c, status=Order.Status.NEW)
    OrderFactory(client=c, status=Order.Status.DONE)
    html = member_client.get(f"/clients/{c.pk}/").text
    assert '<dd class="num" data-field="open_orders_count">1</dd>' in html
    assert f'href="/orders/?client={c.pk}"' in html
    empty = ClientFactory()
    assert "/orders/?client=" not in member_client.get(f"/clients/{empty.pk}/").text
