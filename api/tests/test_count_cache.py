import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def count_queries(api, url):
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize(
    ("url", "repeated"),
    [
        # The clients' page with its totals is cached too (api.pagination): no query at all.
        ("/api/clients/", 0),
        ("/api/clients/?vip=true", 0),
        # Only the orders' count is cached: the page is one cheap indexed query.
        ("/api/orders/", 1),
    ],
)
def test_a_repeated_list_reads_its_count_from_the_cache(api, url, repeated):
    OrderFactory.create_batch(3, client__vip=True)
    _, first = count_queries(api, url)
    _, second = count_queries(api, url)
    # First: COUNT(*) and the page. Then the count is cached by version and SQL (and, for
    # clients, the page too).
    assert len(first) == 2, first
    assert len(second) == repeated, second
    assert not any(sql.startswith("SELECT COUNT(*)") for sql in second)


def test_a_new_order_or_client_shows_in_the_counts_at_once(api, django_capture_on_commit_callbacks):
    OrderFactory()
    assert api.get("/api/orders/").data["count"] == 1
    assert api.get("/api/clients/").data["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory()
    assert api.get("/api/orders/").data["count"] == 2
    assert api.get("/api/clients/").data["count"] == 2


def test_each_filter_has_its_own_count(api):
    ClientFactory(vip=True)
    ClientFactory(vip=False)
    assert api.get("/api/clients/").data["count"] == 2
    assert api.get("/api/clients/?vip=true").data["count"] == 1
    assert api.get("/api/clients/?search=nomatch").data["count"] == 0
