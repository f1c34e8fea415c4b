"""The roll-ups' maintenance: compare them with a fresh aggregate (`rollups_drift()`, as
clients.services.totals_drift() does for the clients' totals) and rebuild them."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from clients import events
from clients.models import Client, Order
from dashboard import triggers
from dashboard.models import ClientRollup, OrderRollup, bucket_expression

CENTS = Decimal("0.01")
ORDER_FIELDS = ("orders_count", "amount")
CLIENT_FIELDS = ("clients_count", "vip_count", "active_count")


@dataclass(frozen=True)
class RollupDrift:
    """A bucket whose stored roll-up differs from a fresh aggregate (zeros where none)."""

    rollup: str  # "order" or "client"
    bucket: datetime
    status: str  # the orders' status; "" for the client roll-up
    stored: dict[str, int | Decimal]
    computed: dict[str, int | Decimal]

    def __str__(self) -> str:
        fields = [
            f"{name} stored {self.stored[name]}, computed {self.computed[name]}"
            for name in self.stored
            if self.stored[name] != self.computed[name]
        ]
        where = f"{self.bucket:%Y-%m-%d %H:%M} UTC{f' {self.status}' if self.status else ''}"
        return f"{self.rollup} roll-up {where}: {'; '.join(fields)}"


def _exact(row: dict, names: tuple[str, ...]) -> dict[str, int | Decimal]:
    # SQLite sums decimals as floats, and hands back Decimal("5"): two places, as stored.
    return {
        name: (row[name] or 0) if name != "amount" else Decimal(row[name] or 0).quantize(CENTS)
        for name in names
    }


def _utc(moment: datetime) -> datetime:
    # On PostgreSQL the expression's value is a UTC timestamp without its zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(
    rollup: str, stored: dict, computed: dict, names: tuple[str, ...]
) -> list[RollupDrift]:
    zeros = dict.fromkeys(names, 0) | ({"amount": Decimal("0.00")} if "amount" in names else {})
    return [
        RollupDrift(
            rollup=rollup,
            bucket=bucket,
            status=status,
            stored=stored.get((bucket, status), zeros),
            computed=computed.get((bucket, status), zeros),
        )
        for bucket, status in sorted(stored.keys() | computed.keys())
        if stored.get((bucket, status), zeros) != computed.get((bucket, status), zeros)
    ]


def rollups_drift() -> list[RollupDrift]:
    """Every bucket whose roll-up differs from the orders and clients aggregated afresh: one
    GROUP BY over each table (a few seconds at a million orders)."""
    fresh_orders = (
        Order.objects.annotate(b=bucket_expression("created_at"))
        .values("b", "status")
        .annotate(orders_count=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    computed = {(_utc(row["b"]), row["status"]): _exact(row, ORDER_FIELDS) for row in fresh_orders}
    stored = {
        (row["bucket"], row["status"]): _exact(row, ORDER_FIELDS)
        for row in OrderRollup.objects.values("bucket", "status", *ORDER_FIELDS)
    }
    drift = _compare("order", stored, computed, ORDER_FIELDS)

    fresh_clients = (
        Client.objects.annotate(b=bucket_expression("created_at"))
        .values("b")
        .annotate(
            clients_count=Count("pk"),
            vip_count=Count("pk", filter=Q(vip=True)),
            active_count=Count("pk", filter=Q(open_orders_count__gt=0)),
        )
        .order_by()
    )
    computed = {(_utc(row["b"]), ""): _exact(row, CLIENT_FIELDS) for row in fresh_clients}
    stored = {
        (row["bucket"], ""): _exact(row, CLIENT_FIELDS)
        for row in ClientRollup.objects.values("bucket", *CLIENT_FIELDS)
    }
    return drift + _compare("client", stored, computed, CLIENT_FIELDS)


def missing_triggers() -> set[str]:
    """The roll-up triggers the database should have and has not (`manage.py migrate` installs
    them)."""
    return triggers.ROLLUP_TRIGGERS.missing(connection)


def rollups_rebuild() -> None:
    """Recompute both roll-ups from the orders and clients; writers wait meanwhile."""
    with transaction.atomic():
        triggers.rebuild(connection)
    events.send_after_commit(events.clients_changed, orders_only=True)
