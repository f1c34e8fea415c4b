import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def count_queries(reader_api, url):
    with CaptureQueriesContext(connection) as ctx:
        response = reader_api.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize(
    ("url", "repeated"),
    [
        # Every request first reads who is calling: the token with its user (the user's
        # permissions come from the cache the second time, core.auth).
        # The clients' page with its totals is cached too (api.pagination): no other query.
        ("/api/clients/", 1),
        ("/api/clients/?vip=true", 1),
        # Only the orders' count is cached: the page is one cheap indexed query.
        ("/api/orders/", 2),
    ],
)
def test_a_repeated_list_reads_its_count_from_the_cache(reader_api, url, repeated):
    OrderFactory.create_batch(3, client__vip=True)
    _, first = count_queries(reader_api, url)
    _, second = count_queries(reader_api, url)
    # First: the 3 who-is-calling queries, COUNT(*) and the page. Then the count is cached by
    # version and SQL (and, for clients, the page too).
    assert len(first) == 5, first
    assert len(second) == repeated, second
    assert not any(sql.startswith("SELECT COUNT(*)") for sql in second)


def test_a_new_order_or_client_shows_in_the_counts_at_once(
    reader_api, django_capture_on_commit_callbacks
):
    OrderFactory()
    assert reader_api.get("/api/orders/").data["count"] == 1
    assert reader_api.get("/api/clients/").data["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory()
    assert reader_api.get("/api/orders/").data["count"] == 2
    assert reader_api.get("/api/clients/").data["count"] == 2


def test_each_filter_has_its_own_count(reader_api):
    ClientFactory(vip=True)
    ClientFactory(vip=False)
    assert reader_api.get("/api/clients/").data["count"] == 2
    assert reader_api.get("/api/clients/?vip=true").data["count"] == 1
    assert reader_api.get("/api/clients/?search=nomatch").data["count"] == 0
