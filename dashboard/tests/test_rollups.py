"""The roll-ups (dashboard/models.py) after every write path, against a fresh aggregate
(`rollups_drift()`), and the bucket rule they are built on."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from clients.models import Client, Order
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory
from dashboard import triggers
from dashboard.models import ClientRollup, OrderRollup, bucket_start
from dashboard.services import missing_triggers, rollups_drift, rollups_rebuild

pytestmark = pytest.mark.django_db

DONE, NEW, IN_PROGRESS = Order.Status.DONE, Order.Status.NEW, Order.Status.IN_PROGRESS


def assert_exact() -> None:
    assert rollups_drift() == []


def status_totals() -> dict[str, tuple[int, Decimal]]:
    rows = OrderRollup.objects.values("status").annotate(n=Sum("orders_count"), a=Sum("amount"))
    return {
        r["status"]: (r["n"], Decimal(r["a"]).quantize(Decimal("0.01"))) for r in rows if r["n"]
    }


def client_totals() -> tuple[int, int, int]:
    row = ClientRollup.objects.aggregate(
        n=Sum("clients_count"), v=Sum("vip_count"), a=Sum("active_count")
    )
    return row["n"] or 0, row["v"] or 0, row["a"] or 0


# --- The buckets ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "start"),
    [
        # The 28 hours around a UTC month's start are hourly...
        (datetime(2026, 3, 31, 10, 0, tzinfo=UTC), datetime(2026, 3, 31, 10, tzinfo=UTC)),
        (datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC)),
        (datetime(2026, 4, 1, 13, 30, tzinfo=UTC), datetime(2026, 4, 1, 13, tzinfo=UTC)),
        # ...the rest of the month is one bucket, starting 14 hours in.
        (datetime(2026, 4, 1, 14, 0, tzinfo=UTC), datetime(2026, 4, 1, 14, tzinfo=UTC)),
        (datetime(2026, 4, 17, 8, 5, tzinfo=UTC), datetime(2026, 4, 1, 14, tzinfo=UTC)),
        (datetime(2026, 4, 30, 9, 59, tzinfo=UTC), datetime(2026, 4, 1, 14, tzinfo=UTC)),
        (datetime(2026, 4, 30, 10, 0, tzinfo=UTC), datetime(2026, 4, 30, 10, tzinfo=UTC)),
    ],
)
def test_bucket_start(moment, start):
    assert bucket_start(moment) == start


@pytest.mark.parametrize(
    "zone", ["Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]
)
def test_every_bucket_lies_inside_one_local_month(zone):
    """Each hour of a year: its bucket starts in the same local month as the hour itself."""
    tz = ZoneInfo(zone)
    moment = datetime(2025, 12, 15, tzinfo=UTC)
    while moment < datetime(2027, 1, 15, tzinfo=UTC):
        local, start = moment.astimezone(tz), bucket_start(moment).astimezone(tz)
        assert (start.year, start.month) == (local.year, local.month), moment
        assert bucket_start(start) == bucket_start(moment)
        moment += timedelta(hours=1)


def test_the_database_buckets_as_python_does():
    moments = [
        datetime(2026, 3, 31, 22, 30, 15, 500, tzinfo=UTC),
        datetime(2026, 4, 1, 13, 59, 59, tzinfo=UTC),
        datetime(2026, 4, 1, 14, 0, tzinfo=UTC),
        datetime(2026, 4, 20, 3, 0, tzinfo=UTC),
    ]
    OrderFactory.create_batch(len(moments))  # auto_now_add: the dates are set below
    for order, moment in zip(Order.objects.order_by("pk"), moments, strict=True):
        Order.objects.filter(pk=order.pk).update(created_at=moment)
    buckets = OrderRollup.objects.filter(orders_count__gt=0).values_list("bucket", flat=True)
    # The last two share the month's body bucket.
    assert sorted(buckets) == sorted({bucket_start(m) for m in moments})
    assert len(buckets) == 3
    assert_exact()


# --- Every write path ----------------------------------------------------------------------------
def test_creating_orders_adds_to_their_bucket_and_status():
    OrderFactory(amount=Decimal("10.10"))
    OrderFactory(amount=Decimal("0.20"), status=DONE)
    OrderFactory(amount=Decimal("1.00"), status=DONE)
    assert status_totals() == {NEW: (1, Decimal("10.10")), DONE: (2, Decimal("1.20"))}
    assert_exact()


def test_changing_amount_status_and_client_keeps_them_exact():
    order = OrderFactory(amount=Decimal("10.00"))
    order.amount = Decimal("12.50")
    order.save()
    assert status_totals() == {NEW: (1, Decimal("12.50"))}
    order.status = IN_PROGRESS
    order.save()
    assert status_totals() == {IN_PROGRESS: (1, Decimal("12.50"))}
    order.client = ClientFactory()
    order.save()
    order.title = "Renamed"  # no roll-up column: nothing changes
    order.save()
    assert status_totals() == {IN_PROGRESS: (1, Decimal("12.50"))}
    assert_exact()


def test_a_raw_change_of_created_at_moves_the_order_to_its_bucket():
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(created_at=datetime(2024, 2, 29, 23, 30, tzinfo=UTC))
    assert list(
        OrderRollup.objects.filter(orders_count__gt=0).values_list("bucket", flat=True)
    ) == [datetime(2024, 2, 29, 23, tzinfo=UTC)]
    assert_exact()


def test_deleting_orders_subtracts():
    keep = OrderFactory(amount=Decimal("3.00"))
    OrderFactory(amount=Decimal("4.00")).delete()
    Order.objects.exclude(pk=keep.pk).delete()
    assert status_totals() == {NEW: (1, Decimal("3.00"))}
    assert_exact()


def test_bulk_paths_keep_them_exact():
    client = ClientFactory()
    Order.objects.bulk_create(
        [Order(client=client, title=f"#{i}", amount=Decimal("1.10"), status=NEW) for i in range(20)]
    )
    Order.objects.filter(pk__in=Order.objects.order_by("pk").values("pk")[:5]).update(status=DONE)
    Order.objects.update(amount=Decimal("2.00"))
    assert status_totals() == {NEW: (15, Decimal("30.00")), DONE: (5, Decimal("10.00"))}
    Client.objects.bulk_create([Client(name=f"B{i}", email=f"b{i}@mail.test") for i in range(3)])
    Client.objects.filter(email__in=[f"b{i}@mail.test" for i in range(3)]).update(vip=True)
    assert client_totals() == (4, 3, 1)
    assert_exact()


def test_deleting_a_client_removes_it_and_its_orders():
    client = ClientFactory()
    OrderFactory.create_batch(3, client=client)
    OrderFactory()
    client.delete()
    assert status_totals() == {NEW: (1, Decimal("100.00"))}
    assert client_totals() == (1, 0, 1)
    assert_exact()


def test_a_merge_keeps_them_exact():
    source, target = ClientFactory(vip=True), ClientFactory()
    OrderFactory.create_batch(2, client=source)
    OrderFactory(client=target, status=DONE)
    client_merge(source_id=source.pk, target_id=target.pk)
    assert status_totals() == {NEW: (2, Decimal("200.00")), DONE: (1, Decimal("100.00"))}
    assert client_totals() == (1, 1, 1)
    assert_exact()


def test_active_and_vip_follow_the_client():
    client = ClientFactory()
    assert client_totals() == (1, 0, 0)
    order = OrderFactory(client=client)
    assert client_totals() == (1, 0, 1)
    order.status = DONE
    order.save()
    assert client_totals() == (1, 0, 0)
    Client.objects.filter(pk=client.pk).update(vip=True)
    assert client_totals() == (1, 1, 0)
    Client.objects.filter(pk=client.pk).update(created_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert client_totals() == (1, 1, 0)
    assert_exact()


def test_sums_stay_exact_to_the_cent_over_many_small_amounts():
    client = ClientFactory()
    Order.objects.bulk_create(
        [Order(client=client, title="x", amount=Decimal("0.15")) for _ in range(500)]
    )
    assert status_totals() == {NEW: (500, Decimal("75.00"))}
    assert_exact()


# --- The drift check and the rebuild ------------------------------------------------------------
def test_a_drift_is_reported_and_the_rebuild_repairs_it():
    OrderFactory(amount=Decimal("5.00"))
    OrderRollup.objects.update(amount=Decimal("7.00"))
    ClientRollup.objects.update(active_count=0)
    drift = rollups_drift()
    assert [(d.rollup, d.status) for d in drift] == [("order", NEW), ("client", "")]
    assert "amount stored 7.00, computed 5.00" in str(drift[0])
    rollups_rebuild()
    assert_exact()


def test_the_migration_installed_every_trigger():
    assert triggers.ROLLUP_TRIGGERS.installed(connection) == set(triggers.NAMES[connection.vendor])
    assert missing_triggers() == set()
