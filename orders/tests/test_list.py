"""/orders/: every order, filtered by status and client, searched by title or client name,
sorted by amount or date, 25 a page; junk parameters never an error page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [order.pk for order in response.context["orders"]]


def dated(n: int, **fields) -> list[Order]:
    """`n` orders, one a day apart, the last one newest."""
    orders = [OrderFactory(**fields) for _ in range(n)]
    now = timezone.now()
    for i, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=n - i))
    return orders


def test_lists_client_title_amount_status_and_date_newest_first(member_client):
    acme = ClientFactory(name="Acme GmbH")
    old, new = dated(2, client=acme)
    response = member_client.get("/orders/")
    assert response.status_code == 200
    assert ids(response) == [new.pk, old.pk]
    html = response.content.decode()
    assert f'href="/clients/{acme.pk}/"' in html
    assert "Acme GmbH" in html
    assert new.title in html
    assert "100.00" in html
    assert "status-NEW" in html


def test_25_a_page_and_the_page_links_keep_every_parameter(member_client):
    client = ClientFactory()
    dated(30, client=client, status=Order.Status.DONE)
    response = member_client.get(f"/orders/?status=DONE&client={client.pk}&sort=-amount&q=Order")
    assert len(ids(response)) == 25
    html = response.content.decode()
    assert f"?status=DONE&amp;client={client.pk}&amp;q=Order&amp;sort=-amount&amp;page=2" in html
    second = member_client.get(
        f"/orders/?status=DONE&client={client.pk}&sort=-amount&q=Order&page=2"
    )
    assert len(ids(second)) == 5


@pytest.mark.parametrize("status", ["NEW", "IN_PROGRESS", "DONE"])
def test_filters_by_status(member_client, status):
    orders = {s: OrderFactory(status=s) for s in Order.Status.values}
    assert ids(member_client.get(f"/orders/?status={status}")) == [orders[status].pk]


def test_filters_by_client_shown_by_name_with_a_way_to_clear_it(member_client):
    acme, other = ClientFactory(name="Acme GmbH"), ClientFactory(name="Other")
    mine = OrderFactory(client=acme)
    OrderFactory(client=other)
    response = member_client.get(f"/orders/?client={acme.pk}&status=NEW")
    assert ids(response) == [mine.pk]
    assert response.context["paginator"].count == 1
    html = response.content.decode()
    assert 'id="client-filter"' in html
    assert "Acme GmbH" in html
    assert 'href="?status=NEW"' in html  # the clear link keeps the other filters


def test_searches_titles_and_client_names_case_insensitively(member_client):
    by_title = OrderFactory(title="Website redesign")
    by_client = OrderFactory(client=ClientFactory(name="Webster & Co"), title="Support")
    OrderFactory(title="Training", client=ClientFactory(name="Nobody"))
    response = member_client.get("/orders/?q=WEB")
    assert set(ids(response)) == {by_title.pk, by_client.pk}
    assert response.context["paginator"].count == 2


# Three orders, oldest first, priced 1, 50 and 9: each sort's order, by position.
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", [0, 2, 1]),
        ("-amount", [1, 2, 0]),
        ("created_at", [0, 1, 2]),
        ("-created_at", [2, 1, 0]),
    ],
)
def test_sorts_by_amount_or_date_both_ways(member_client, sort, expected):
    orders = dated(3)
    for order, amount in zip(orders, ["1", "50", "9"], strict=True):
        Order.objects.filter(pk=order.pk).update(amount=Decimal(amount))
    assert ids(member_client.get(f"/orders/?sort={sort}")) == [orders[i].pk for i in expected]


def test_sort_headers_say_their_direction_and_link_to_the_other(member_client):
    OrderFactory()
    html = member_client.get("/orders/?sort=amount&status=NEW").content.decode()
    assert 'aria-sort="ascending"' in html
    assert 'href="?status=NEW&amp;sort=-amount"' in html
    html = member_client.get("/orders/").content.decode()
    assert 'aria-sort="descending"' in html  # by date, newest first
    assert 'href="?sort=created_at"' in html


@pytest.mark.parametrize(
    "query",
    [
        "status=LOST",
        "client=abc",
        "client=-3",
        "client=999999",
        "page=abc",
        "page=0",
        "page=999999",
        "sort=title",
        "sort=",
        "q=" + "x" * 500,
        "q=a%00b",
        "status=NEW&status=DONE",
    ],
)
def test_junk_parameters_fall_back_and_never_fail(member_client, query):
    OrderFactory()
    response = member_client.get(f"/orders/?{query}")
    assert response.status_code == 200
    assert len(ids(response)) <= 1


def test_a_junk_parameter_is_dropped_with_a_notice(member_client):
    order = OrderFactory()
    response = member_client.get("/orders/?status=LOST&client=999999")
    assert ids(response) == [order.pk]
    html = response.content.decode()
    assert "There is no such status" in html
    assert "There is no such client" in html


def test_an_out_of_range_page_shows_the_last(member_client):
    dated(30)
    response = member_client.get("/orders/?page=99")
    assert response.context["page_obj"].number == 2


def test_empty_states(member_client):
    html = member_client.get("/orders/").content.decode()
    assert "No orders yet." in html
    OrderFactory(title="Something")
    html = member_client.get("/orders/?q=nothing-like-it").content.decode()
    assert "No orders match these filters." in html
    assert 'href="/orders/"' in html


def test_the_counts_come_from_the_totals_not_a_count_query(
    member_client, django_assert_num_queries, session_queries
):
    """After a first request has cached the totals, a page costs the session and the rows."""
    for status in Order.Status.values:
        OrderFactory(status=status)
    member_client.get("/orders/")  # the permissions and the totals, now cached
    # The session (unless cached), the user, the page's rows with their clients
    # (select_related): no COUNT(*), no GROUP BY.
    with django_assert_num_queries(session_queries + 2):
        response = member_client.get("/orders/")
    assert response.context["paginator"].count == 3
    # With ?status=: the same.
    with django_assert_num_queries(session_queries + 2):
        assert member_client.get("/orders/?status=DONE").context["paginator"].count == 1


def test_a_client_filter_counts_from_the_clients_roll_up(
    member_client, django_assert_num_queries, session_queries
):
    client = ClientFactory()
    OrderFactory.create_batch(3, client=client)
    member_client.get(f"/orders/?client={client.pk}")
    # The session, the user, the client (its name and its stored orders_count), the rows.
    with django_assert_num_queries(session_queries + 3):
        assert member_client.get(f"/orders/?client={client.pk}").context["paginator"].count == 3


def test_a_search_counts_once_per_version(
    member_client, django_assert_num_queries, session_queries, django_capture_on_commit_callbacks
):
    OrderFactory.create_batch(3, title="Website")
    member_client.get("/orders/?q=web")
    # The session, the user, the clients whose name matches, the rows; the COUNT is cached.
    with django_assert_num_queries(session_queries + 3):
        assert member_client.get("/orders/?q=web").context["paginator"].count == 3
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(title="Web shop")  # a write retires the cached count
    assert member_client.get("/orders/?q=web").context["paginator"].count == 4


def test_a_search_with_more_matches_than_it_counts_says_more_than(member_client, monkeypatch):
    monkeypatch.setattr("orders.selectors.COUNT_CAP", 25)
    OrderFactory.create_batch(30, title="Website")
    response = member_client.get("/orders/?q=web&page=9")
    assert response.context["paginator"].count == 25  # pages up to the cap: one page here
    assert response.context["page_obj"].number == 1
    assert "More than 25 orders" in response.text
    OrderFactory.create_batch(2, title="Other")
    below = member_client.get("/orders/?q=other").text
    assert "2 orders" in below
    assert "More than" not in below


@pytest.mark.parametrize("rows", [2, 50])
def test_the_query_count_does_not_grow_with_the_orders(
    member_client, django_assert_num_queries, session_queries, rows
):
    client = ClientFactory()
    OrderFactory.create_batch(rows, client=client)
    member_client.get("/orders/")
    # The session, the user and the page's rows (25 at most), their clients joined: the same
    # for 2 orders or 50.
    with django_assert_num_queries(session_queries + 2):
        member_client.get("/orders/?page=2")


def test_a_write_shows_at_once(member_client, django_capture_on_commit_callbacks):
    member_client.get("/orders/")
    with django_capture_on_commit_callbacks(execute=True):
        order = OrderFactory()
    response = member_client.get("/orders/")
    assert ids(response) == [order.pk]
    assert response.context["paginator"].count == 1


def test_status_tabs_show_each_statuss_count(member_client):
    OrderFactory.create_batch(2, status=Order.Status.DONE)
    html = member_client.get("/orders/").content.decode()
    assert 'aria-current="true">All' in html
    assert 'Done <span class="muted">2</span>' in html


def test_deep_pages_seek_from_anchors(member_client, monkeypatch):
    """Past the first anchor stride the page is found from a cached anchor, the same rows as
    an OFFSET would give."""
    from core import pagination

    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", 10)
    orders = dated(60)
    newest_first = [o.pk for o in reversed(orders)]
    assert ids(member_client.get("/orders/?page=2")) == newest_first[25:50]
    assert ids(member_client.get("/orders/?page=3")) == newest_first[50:]
    assert ids(member_client.get("/orders/?page=3&sort=created_at")) == [o.pk for o in orders[50:]]
