import pytest
from django.db import connection

from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def plan(queryset) -> str:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # A test table is tiny, so the planner would rightly prefer a scan: forbid it to see
        # whether the index can serve the query at all (at 100k clients the planner picks it).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) matches", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_by_name_or_email_can_use_the_trigram_indexes():
    ClientFactory(name="Ada Lindberg", email="ada@mail.test")
    ClientFactory(name="Grace Hopper", email="grace.berg@navy.test")
    ClientFactory(name="Alan Turing", email="alan@navy.test")
    searched = Client.objects.search("BERG")
    assert sorted(searched.values_list("name", flat=True)) == ["Ada Lindberg", "Grace Hopper"]
    explained = plan(searched)
    assert "client_name_upper_trgm" in explained
    assert "client_email_upper_trgm" in explained
