import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from bench.seed import BENCH_PASSWORD, BENCH_USERNAME, ascii_slug, seed
from clients.models import Client, Order
from clients.services import totals_drift
from dashboard.services import rollups_drift

# COPY and VACUUM need PostgreSQL, and VACUUM a connection outside any transaction.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_seed_loads_realistic_clients_and_orders_and_the_bench_login():
    seed(clients=120, orders=1500, out=io.StringIO())
    assert Client.objects.count() == 120
    assert Order.objects.count() == 1500
    emails = list(Client.objects.values_list("email", flat=True))
    assert len(set(emails)) == 120
    assert all(email == email.lower() and email.isascii() for email in emails)
    assert any(not name.isascii() for name in Client.objects.values_list("name", flat=True))
    assert set(Client.objects.filter(vip=True).values_list("email", flat=True)) == {
        e for e in emails if e.endswith("@company.com")
    }
    span = Client.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["last"] - span["first"] > timedelta(days=365)
    assert span["last"] <= timezone.now()
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    assert Order.objects.filter(amount__lt=1).count() == 0
    assert not Order.objects.filter(created_at__lt=F("client__created_at")).exists()
    assert get_user_model().objects.get(username=BENCH_USERNAME).check_password(BENCH_PASSWORD)
    # The orders were copied with their triggers off: every roll-up was set afterwards.
    assert totals_drift() == []
    assert rollups_drift() == []


def test_seeding_again_replaces_the_data_and_keeps_indexes_and_foreign_keys():
    seed(clients=50, orders=200, out=io.StringIO())
    seed(clients=30, orders=100, out=io.StringIO())
    assert Client.objects.count() == 30
    assert Order.objects.count() == 100
    assert Client.objects.aggregate(Max("pk"))["pk__max"] == 30  # identities restarted
    totals = Client.objects.annotate(n=Count("orders")).aggregate(Max("n"))
    assert totals["n__max"] > 0
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN (%s, %s)",
            [Client._meta.db_table, Order._meta.db_table],
        )
        names = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [Order._meta.db_table],
        )
        foreign_keys = cursor.fetchone()[0]
    assert "client_newest_first" in names
    assert "order_client_newest_first" in names  # the orders' index on client_id
    assert foreign_keys == 1


def test_emails_stay_ascii_whatever_the_name():
    assert ascii_slug("Łukasz Ødegaard") == "lukasz.odegaard"
    assert ascii_slug("Zoë O'Brien") == "zoe.obrien"
