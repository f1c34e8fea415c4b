"""The cached figures: never stale after a write, few queries, one entry per language and zone."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory
from dashboard.cache import cached_dashboard_stats
from dashboard.selectors import dashboard_stats

pytestmark = pytest.mark.django_db


def queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def test_the_figures_take_three_queries_whatever_the_data():
    # The order roll-up by status and month, the client roll-up by month, the top clients.
    assert queries(dashboard_stats) == 3
    for _ in range(5):
        OrderFactory(client=ClientFactory(vip=True))
    assert queries(dashboard_stats) == 3


def test_a_hit_takes_no_query():
    cached_dashboard_stats()
    assert queries(cached_dashboard_stats) == 0


def test_a_created_order_shows_on_the_next_request(django_capture_on_commit_callbacks):
    client = ClientFactory()
    assert cached_dashboard_stats()["orders"]["orders_count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=client, amount=Decimal("5.00"))
    stats = cached_dashboard_stats()
    assert stats["orders"] == {"orders_count": 1, "amount": "5.00"}
    assert stats["top_clients"][0]["id"] == client.pk


@pytest.mark.parametrize("write", ["update", "delete", "client", "merge"])
def test_every_write_retires_the_cached_figures(write, django_capture_on_commit_callbacks):
    order = OrderFactory(amount=Decimal("5.00"))
    other = ClientFactory()
    before = cached_dashboard_stats()
    with django_capture_on_commit_callbacks(execute=True):
        if write == "update":
            order.amount = Decimal("6.00")
            order.save()
        elif write == "delete":
            order.delete()
        elif write == "client":
            ClientFactory()
        else:
            client_merge(source_id=order.client_id, target_id=other.pk)
    assert cached_dashboard_stats() != before


def test_one_entry_per_language_and_time_zone():
    cached_dashboard_stats()
    with timezone.override("America/New_York"):
        assert queries(cached_dashboard_stats) == 3
        assert cached_dashboard_stats()["time_zone"] == "America/New_York"
    with translation.override("de"):
        assert queries(cached_dashboard_stats) == 3


def test_the_page_costs_its_session_and_permissions_then_one_less(
    member_client, member, session_queries, permission_queries
):
    # Uncached: the session, the user, the permissions (first request), the three figures' queries.
    OrderFactory()
    with CaptureQueriesContext(connection) as first:
        assert member_client.get("/dashboard/").status_code == 200
    assert len(first) == session_queries + 1 + permission_queries + 3
    # Cached: the session and the user; the permissions and the figures come from the cache.
    with CaptureQueriesContext(connection) as second:
        member_client.get("/dashboard/")
    assert len(second) == session_queries + 1
