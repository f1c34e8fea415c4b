"""The client list's sorts (`?sort=`), filters (`?vip=1`, `?active=1`) and their links: every
link keeps the list's parameters, every sort is a total order (the id breaks ties), and a
page is a constant number of queries whatever the sort or filter.

Data changes that must show at once are wrapped in `django_capture_on_commit_callbacks(
execute=True)`: the cache versions are bumped after commit, as in production.
"""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

LIST = "/clients/"
SORT_FIELDS = {
    "name": "name",
    "orders_count": "orders_count",
    "orders_total": "orders_total",
    "created_at": "created_at",
}


def get(http, url):
    response = http.get(url)
    assert response.status_code == 200
    return response


def ids(response) -> list[int]:
    return [c.pk for c in response.context["clients"]]


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(\?[^"]*)"', html)]


@pytest.fixture
def ties(db):
    """Clients in pairs that tie on every sort key but the id."""
    made = []
    for i in range(6):
        for _ in range(2):
            client = ClientFactory(name=f"Client {i % 3}")
            OrderFactory.create_batch(i % 3, client=client, amount=Decimal("5.00"))
            made.append(client)
    stamp = Client.objects.order_by("created_at").first().created_at
    Client.objects.filter(pk__in=[c.pk for c in made[::2]]).update(created_at=stamp)
    return made


@pytest.mark.parametrize("key", SORT_FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_each_sort_both_ways_breaks_ties_by_id_in_the_same_direction(
    member_client, ties, key, descending
):
    sign = "-" if descending else ""
    expected = list(
        Client.objects.order_by(f"{sign}{SORT_FIELDS[key]}", f"{sign}id").values_list(
            "pk", flat=True
        )
    )
    shown = ids(get(member_client, f"{LIST}?sort={sign}{key}")) + ids(
        get(member_client, f"{LIST}?sort={sign}{key}&page=2")
    )
    assert shown == expected


def test_the_default_is_newest_first_and_its_header_says_so(member_client, ties):
    response = get(member_client, LIST)
    assert ids(response) == list(Client.objects.values_list("pk", flat=True)[:10])
    html = response.text
    assert re.search(
        r'<th scope="col" class="hide-sm" aria-sort="descending"><a href="\?sort=created_at"', html
    )
    assert html.count("aria-sort=") == 1


def test_aria_sort_marks_the_sorted_column_and_its_link_reverses_it(member_client, ties):
    html = get(member_client, f"{LIST}?sort=name").text
    assert re.search(r'<th scope="col" aria-sort="ascending"><a href="\?sort=-name"', html)
    html = get(member_client, f"{LIST}?sort=-orders_total").text
    assert re.search(
        r'<th scope="col" class="num" aria-sort="descending"><a href="\?sort=orders_total"', html
    )
    # The other numeric column starts with the largest; the name from A.
    assert 'href="?sort=-orders_count"' in html
    assert 'href="?sort=name"' in html
    assert html.count("aria-sort=") == 1


@pytest.mark.parametrize("sort", ["password", "-", "--name", "orders_total,name", "id", ""])
def test_an_unknown_sort_shows_the_default_order_and_is_dropped_from_the_links(
    member_client, ties, sort
):
    response = get(member_client, f"{LIST}?sort={sort}&active=1")
    assert ids(response) == list(Client.objects.active().values_list("pk", flat=True)[:10])
    links = hrefs(response.text)
    assert "?active=1&page=2" not in links  # one page of active clients
    assert all(f"sort={sort}" not in href for href in links if sort not in ("", "-"))
    assert "?sort=name&active=1" in links  # the filter is kept
    assert 'aria-sort="descending"' in response.text  # the date added, the default


def test_vip_and_active_filter_alone_and_together_with_the_search(member_client):
    vip_busy = ClientFactory(name="Acme VIP Busy", vip=True)
    OrderFactory(client=vip_busy)
    vip_idle = ClientFactory(name="Acme VIP Idle", vip=True)
    OrderFactory(client=vip_idle, status=Order.Status.DONE)
    busy = ClientFactory(name="Acme Busy")
    OrderFactory(client=busy, status=Order.Status.IN_PROGRESS)
    other = ClientFactory(name="Other Busy", vip=True)
    OrderFactory(client=other)

    def shown(query):
        return set(ids(get(member_client, f"{LIST}?{query}")))

    assert shown("vip=1") == {vip_busy.pk, vip_idle.pk, other.pk}
    assert shown("active=1") == {vip_busy.pk, busy.pk, other.pk}
    assert shown("vip=1&active=1") == {vip_busy.pk, other.pk}
    assert shown("vip=1&active=1&q=acme") == {vip_busy.pk}
    assert shown("active=1&q=acme&sort=name") == {vip_busy.pk, busy.pk}
    # Only "1" turns a filter on; the page offers no other value.
    assert shown("vip=0") == shown("vip=yes") == shown("")


def test_the_count_line_names_the_filters(member_client):
    ClientFactory(name="Ada", vip=True)
    OrderFactory(client=ClientFactory(name="Bob", vip=True))
    ClientFactory(name="Cy")
    assert "3 clients" in get(member_client, LIST).text
    assert "2 VIP clients" in get(member_client, f"{LIST}?vip=1").text
    assert "1 active VIP client" in get(member_client, f"{LIST}?vip=1&active=1").text
    assert "1 active client" in get(member_client, f"{LIST}?active=1&q=bo").text
    assert "matching “bo”" in get(member_client, f"{LIST}?active=1&q=bo").text


def test_every_link_keeps_the_lists_parameters(member_client):
    for i in range(25):
        OrderFactory(client=ClientFactory(name=f"Acme {i:02}", vip=True))
    ClientFactory(name="Acme idle", vip=True)
    url = f"{LIST}?q=acme&sort=-orders_total&vip=1&active=1&page=2"
    response = get(member_client, url)
    html = response.text
    links = hrefs(html)
    # Pagination: the page changes, nothing else.
    for rel in ("prev", "next"):
        href = unescape(re.search(rf'href="(\?[^"]*)" rel="{rel}"', html)[1])
        assert href.startswith("?q=acme&sort=-orders_total&vip=1&active=1&page=")
    assert "?q=acme&sort=-orders_total&vip=1&active=1&page=3" in links
    # Sort headers keep the search and filters (and start again at page 1).
    assert "?q=acme&sort=orders_total&vip=1&active=1" in links
    assert "?q=acme&sort=name&vip=1&active=1" in links
    # Filter toggles keep the search and sort; each turns its own filter off.
    assert "?q=acme&sort=-orders_total&active=1" in links
    assert "?q=acme&sort=-orders_total&vip=1" in links
    assert "?q=acme&sort=-orders_total" in links  # clear filters
    assert "?sort=-orders_total&vip=1&active=1" in links  # clear the search
    # The search form carries the sort and the filters as hidden inputs.
    form = re.search(r'<form method="get" class="search".*?</form>', html, re.S)[0]
    assert '<input type="hidden" name="sort" value="-orders_total">' in form
    assert '<input type="hidden" name="vip" value="1">' in form
    assert '<input type="hidden" name="active" value="1">' in form
    # The export downloads what the list shows.
    assert 'href="/clients/export.csv?q=acme&amp;sort=-orders_total&amp;vip=1&amp;active=1"' in html


def test_filter_toggles_say_whether_they_are_on(member_client):
    ClientFactory(vip=True)
    html = get(member_client, f"{LIST}?vip=1").text
    assert re.search(r'href="\?"[^>]*aria-pressed="true"[^>]*>VIP clients<', html)
    assert re.search(r'href="\?vip=1&amp;active=1"[^>]*aria-pressed="false"[^>]*>Active', html)


def test_a_search_form_without_sort_or_filters_has_no_hidden_inputs(member_client):
    ClientFactory()
    assert (
        'type="hidden"'
        not in re.search(
            r'<form method="get" class="search".*?</form>', get(member_client, LIST).text, re.S
        )[0]
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("vip=1&q=zzz", "No VIP clients match “zzz”."),
        ("active=1&q=zzz", "No active clients match “zzz”."),
        ("vip=1&active=1&q=zzz", "No active VIP clients match “zzz”."),
        ("vip=1", "No VIP clients yet."),
        ("active=1", "No client has an open order."),
        ("q=zzz", "No clients match “zzz”."),
    ],
)
def test_empty_states_say_what_matched_nothing_and_offer_a_way_out(member_client, query, message):
    ClientFactory(name="Ada")
    html = get(member_client, f"{LIST}?{query}&sort=name").text
    assert message in html
    if "vip" in query or "active" in query:
        clear = "?sort=name" + ("&amp;q=zzz" if "q=" in query else "")
        expected = "?q=zzz&amp;sort=name" if "q=" in query else "?sort=name"
        assert f'href="{expected}">Clear filters</a>' in html, clear
    if "q=" in query:
        assert ">Clear the search</a>" in html


@pytest.mark.parametrize("clients", [2, 30])
@pytest.mark.parametrize("query", ["sort=-orders_total&vip=1&active=1&q=a", "sort=name&page=2"])
def test_a_sorted_filtered_page_is_a_constant_number_of_queries(
    member_client, clients, query, session_queries, permission_queries
):
    for _ in range(clients):
        OrderFactory.create_batch(2, client=ClientFactory(name="Ana", vip=True))
    with CaptureQueriesContext(connection) as ctx:
        get(member_client, f"{LIST}?{query}")
    # The session (unless cached), 1. the user, its permissions (2), 2. COUNT(*) of the
    # matches, 3. the page: one query on the stored totals, no GROUP BY, no join.
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) == session_queries + permission_queries + 3, sqls
    assert "GROUP BY" not in sqls[-1]
    assert "JOIN" not in sqls[-1]


def test_a_viewer_may_sort_and_filter_without_edit_links(client, viewer):
    c = ClientFactory(name="Read Only", vip=True)
    client.force_login(viewer)
    html = get(client, f"{LIST}?sort=name&vip=1").text
    assert "Read Only" in html
    assert f'href="/clients/{c.pk}/edit/"' not in html
    assert "Export CSV" not in html  # viewers may not export


def test_a_guest_is_sent_to_the_login_and_a_user_without_a_role_gets_403(client, nobody):
    url = f"{LIST}?sort=-orders_total&vip=1"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(nobody)
    assert client.get(url).status_code == 403


# --- Freshness: what orders change shows at once -----------------------------------------
def test_a_new_order_moves_its_client_to_the_top_by_total_at_once(
    member_client, django_capture_on_commit_callbacks
):
    for _ in range(12):
        OrderFactory(amount=Decimal("10.00"))
    small = ClientFactory(name="Small Yet")
    url = f"{LIST}?sort=-orders_total"
    assert small.pk not in ids(get(member_client, url))
    assert small.pk in ids(get(member_client, f"{url}&page=2"))  # cached: count and pages
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=small, amount=Decimal("999.00"))
    assert ids(get(member_client, url))[0] == small.pk
    assert small.pk not in ids(get(member_client, f"{url}&page=2"))


def test_a_new_order_moves_its_client_by_orders_count_at_once(
    member_client, django_capture_on_commit_callbacks
):
    busy, quiet = OrderFactory().client, ClientFactory()
    url = f"{LIST}?sort=-orders_count"
    assert ids(get(member_client, url)) == [busy.pk, quiet.pk]
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory.create_batch(2, client=quiet)
    assert ids(get(member_client, url)) == [quiet.pk, busy.pk]


def test_active_counts_follow_order_changes_at_once(
    member_client, django_capture_on_commit_callbacks
):
    orders = [OrderFactory() for _ in range(3)]
    ClientFactory()
    url = f"{LIST}?active=1"
    assert get(member_client, url).context["paginator"].count == 3
    assert get(member_client, url).context["paginator"].count == 3  # from the cache
    with django_capture_on_commit_callbacks(execute=True):
        orders[0].status = Order.Status.DONE
        orders[0].save()
    response = get(member_client, url)
    assert response.context["paginator"].count == 2
    assert orders[0].client.pk not in ids(response)
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=orders[0].client)
        OrderFactory(client=ClientFactory())
    assert get(member_client, url).context["paginator"].count == 4


@pytest.fixture
def stride_of_four(monkeypatch):
    from core import pagination

    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", 4)


def test_deep_pages_by_total_seek_from_anchors_that_an_order_retires(
    member_client, stride_of_four, django_capture_on_commit_callbacks
):
    for i in range(25):
        OrderFactory(amount=Decimal(10 + i))
    url = f"{LIST}?sort=-orders_total&page=3"  # rows 20..24, from the anchor of block 5
    expected = list(Client.objects.order_by("-orders_total", "-id")[20:])
    assert ids(get(member_client, url)) == [c.pk for c in expected]
    # A new order puts a client on top: every row moves one place, the anchor too.
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(amount=Decimal("1000.00"))
    with CaptureQueriesContext(connection) as ctx:
        response = get(member_client, url)
    assert ids(response) == [c.pk for c in Client.objects.order_by("-orders_total", "-id")[20:]]
    assert any('"orders_total" <=' in q["sql"] for q in ctx.captured_queries)


def test_a_new_order_keeps_the_count_of_a_list_orders_cannot_change(
    member_client, django_capture_on_commit_callbacks, session_queries
):
    ClientFactory.create_batch(12, vip=True)
    url = f"{LIST}?vip=1&sort=name&page=2"
    get(member_client, url)
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=Client.objects.first())
    with CaptureQueriesContext(connection) as ctx:
        get(member_client, url)
    # The session (unless cached), the user and the page (its permissions cached): the VIP
    # count by name follows the clients only, so a new order keeps it.
    assert len(ctx.captured_queries) == session_queries + 2
