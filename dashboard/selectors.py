"""The dashboard's figures, read from the roll-ups (dashboard/models.py): the page and
/api/stats/ both call `dashboard_stats()` (through the cache, dashboard/cache.py), so they can
never disagree. Three queries whatever the number of orders: the order roll-up grouped by status
and month, the client roll-up grouped by month, and the top clients on their index.

The result is plain JSON (amounts as strings with two places, like the rest of the API), so it
is cached as it is and handed to the page's script and the API unchanged.
"""

from datetime import datetime, tzinfo
from decimal import Decimal

from django.db.models import Case, IntegerField, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from clients import permissions
from clients.models import Client, Order
from dashboard.models import ClientRollup, OrderRollup

MONTHS = 12
TOP_CLIENTS = 10
ZERO = Decimal("0.00")
CENTS = Decimal("0.01")
# Which sections a user sees (the others are null): a section shows what its permission lets the
# user see elsewhere, and the top clients show both clients and their orders.
SECTIONS = {
    "clients": (permissions.VIEW_CLIENT,),
    "new_clients": (permissions.VIEW_CLIENT,),
    "orders": (permissions.VIEW_ORDER,),
    "orders_by_status": (permissions.VIEW_ORDER,),
    "this_month": (permissions.VIEW_ORDER,),
    "last_month": (permissions.VIEW_ORDER,),
    "change": (permissions.VIEW_ORDER,),
    "months": (permissions.VIEW_ORDER,),
    "top_clients": (permissions.VIEW_CLIENT, permissions.VIEW_ORDER),
}


def _money(value: Decimal | None) -> str:
    # SQLite sums decimals as floats: quantize gives the two places the API always shows.
    return str((value or ZERO).quantize(CENTS))


def month_starts(now: datetime, tz: tzinfo, count: int = MONTHS) -> list[datetime]:
    """The first instants of the last `count` months in `tz` (the current one last), and of the
    month after: count + 1 aware datetimes."""
    local = timezone.localtime(now, tz)
    year, month = local.year, local.month
    months = []
    for offset in range(-(count - 1), 2):
        y, m = divmod(month - 1 + offset, 12)
        months.append(datetime(year + y, m + 1, 1, tzinfo=tz))
    return months


def _month_index(starts: list[datetime]) -> Case:
    """0 for the oldest of the months, ..., count - 1 for the current one; -1 before them and
    -2 after (a created_at in the future)."""
    whens = [When(bucket__gte=starts[-1], then=Value(-2))]
    whens += [
        When(bucket__gte=start, then=Value(i))
        for i, start in reversed(list(enumerate(starts[:-1])))
    ]
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def orders_by_status() -> list[dict]:
    """Each status (in the model's order) with its orders' count and amount, from the roll-up:
    one query over a few thousand rows."""
    rows = {
        row["status"]: row
        for row in OrderRollup.objects.values("status")
        .annotate(orders_count=Sum("orders_count"), amount=Sum("amount"))
        .order_by()
    }
    return [
        {
            "status": status.value,
            "label": str(status.label),
            "orders_count": int(rows.get(status.value, {}).get("orders_count") or 0),
            "amount": _money(rows.get(status.value, {}).get("amount")),
        }
        for status in Order.Status
    ]


def _change_pct(current: Decimal | int, previous: Decimal | int) -> float | None:
    """The change from `previous` to `current` in percent, one decimal; None without a base."""
    if not previous:
        return None
    return round(float((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)), 1)


def dashboard_stats(*, now: datetime | None = None) -> dict:
    """Every figure of the dashboard, with months in the current time zone (settings.TIME_ZONE
    unless activated otherwise) and labels in the current language."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    starts = month_starts(now, tz)
    index = _month_index(starts)

    by_status = {status.value: [0, ZERO] for status in Order.Status}
    by_month = [[0, ZERO] for _ in range(MONTHS)]
    order_rows = (
        OrderRollup.objects.annotate(month=index)
        .values("status", "month")
        .annotate(n=Sum("orders_count"), amount=Sum("amount"))
        .order_by()
    )
    for row in order_rows:
        n, amount = int(row["n"] or 0), row["amount"] or ZERO
        totals = by_status.setdefault(row["status"], [0, ZERO])
        totals[0] += n
        totals[1] += amount
        if row["month"] >= 0:
            by_month[row["month"]][0] += n
            by_month[row["month"]][1] += amount

    clients = {"total": 0, "vip": 0, "active": 0}
    new_clients = [0] * MONTHS
    client_rows = (
        ClientRollup.objects.annotate(month=index)
        .values("month")
        .annotate(n=Sum("clients_count"), vip=Sum("vip_count"), active=Sum("active_count"))
        .order_by()
    )
    for row in client_rows:
        clients["total"] += int(row["n"] or 0)
        clients["vip"] += int(row["vip"] or 0)
        clients["active"] += int(row["active"] or 0)
        if row["month"] >= 0:
            new_clients[row["month"]] += int(row["n"] or 0)

    # The client roll-up index: a backward scan that stops after ten rows.
    top = Client.objects.filter(orders_total__gt=0).order_by("-orders_total", "-id")
    top = top.values("id", "name", "orders_count", "orders_total")[:TOP_CLIENTS]
    detail_url = reverse("clients:detail", args=[0]).removesuffix("0/")

    months = [
        {
            "month": f"{start:%Y-%m}",
            "label": date_format(start, "M Y"),
            "orders_count": by_month[i][0],
            "amount": _money(by_month[i][1]),
        }
        for i, start in enumerate(starts[:-1])
    ]
    this_month, last_month = months[-1], months[-2]
    return {
        "time_zone": str(tz),
        "clients": clients,
        "new_clients": [
            {"month": f"{start:%Y-%m}", "label": date_format(start, "M Y"), "clients_count": n}
            for start, n in zip(starts[:-1], new_clients, strict=True)
        ],
        "orders": {
            "orders_count": sum(n for n, _ in by_status.values()),
            "amount": _money(sum((amount for _, amount in by_status.values()), ZERO)),
        },
        "orders_by_status": [
            {
                "status": status.value,
                "label": str(status.label),
                "orders_count": by_status[status.value][0],
                "amount": _money(by_status[status.value][1]),
            }
            for status in Order.Status
        ],
        "this_month": {**this_month, "label": date_format(starts[-2], "F Y")},
        "last_month": {**last_month, "label": date_format(starts[-3], "F Y")},
        "change": {
            "orders_count_pct": _change_pct(this_month["orders_count"], last_month["orders_count"]),
            "amount_pct": _change_pct(Decimal(this_month["amount"]), Decimal(last_month["amount"])),
        },
        "months": months,
        "top_clients": [
            {
                "id": row["id"],
                "name": row["name"],
                "url": f"{detail_url}{row['id']}/",
                "orders_count": row["orders_count"],
                "orders_total": _money(row["orders_total"]),
            }
            for row in top
        ],
    }


def may_view_dashboard(user) -> bool:
    """The dashboard shows something to whoever may view clients or orders."""
    return user.has_perm(permissions.VIEW_CLIENT) or user.has_perm(permissions.VIEW_ORDER)


def may_see(section: str, allowed) -> bool:
    """Whether the predicate `allowed(permission)` grants every permission `section` needs."""
    return all(allowed(permission) for permission in SECTIONS.get(section, ()))


def visible_stats(stats: dict, *, allowed) -> dict:
    """`stats` with each section the predicate `allowed(permission)` refuses set to None."""
    return {key: value if may_see(key, allowed) else None for key, value in stats.items()}
