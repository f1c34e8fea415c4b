"""Reads of the orders pages: the list's filtered and sorted queryset with its count, each
status's count and amount, and the board's newest cards.

At 1,000,000 orders nothing here may grow with the table on a repeated request: the list's page
is one indexed query (deep pages seek from cached anchors, core.pagination), and its count is
never a COUNT(*) over every order: the per-status totals (cached), the client's stored
`orders_count`, or, for a search, one COUNT cached like the totals. Everything cached lives
under the version of the `clients` namespace (clients/cache.py NAMESPACE), which every client
and order write bumps after commit, so nothing here is ever stale after a write.
"""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.paginator import Page
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property

from clients.cache import NAMESPACE
from clients.models import Client, Order
from core.cache import version_get
from core.pagination import AnchoredPaginator
from dashboard.selectors import orders_by_status

TIMEOUT = 60  # seconds; the version makes entries exact, the timeout only bounds memory
# Bump when the shape of a cached value changes, so old entries are never read.
FORMAT = 1

# ?sort= value -> ordering. Each is a total order ending in the primary key (what the anchored
# paginator seeks on), served by an index read forwards or backwards: `order_newest_first`
# (-created_at, -id), `order_by_amount` (amount, id); with ?status= or ?client=, by
# `order_status_newest_first` and `order_client_newest_first`.
SORTS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
}
DEFAULT_SORT = "-created_at"
# Clients whose name matches a search, looked up first (see order_search): past this many
# the search is too broad for their ids to narrow anything, and it goes by the title alone
# plus a join condition PostgreSQL evaluates while walking the sort index.
SEARCH_CLIENTS_MAX = 5000


@dataclass(frozen=True)
class Column:
    """One status on the board, or in the list's filter: its orders' count and amount."""

    status: str
    label: str
    count: int
    amount: Decimal


def _key(version: int, *parts) -> str:
    return ":".join(str(p) for p in ("orders", FORMAT, version, *parts))


def _digest(text: str) -> str:
    # User input in a key: hashed, so keys stay short and free of spaces or control characters.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _compute_totals() -> dict[str, tuple[int, Decimal]]:
    # The dashboard's trigger-kept rollup (a few thousand rows at a million orders, ~4 ms),
    # not a GROUP BY over every order (~220 ms there).
    return {
        row["status"]: (row["orders_count"], Decimal(row["amount"])) for row in orders_by_status()
    }


def current_version() -> int | None:
    """The `clients` version this request's cache keys are built from (one cache read), or
    None when the cache is down: everything then comes from the database."""
    return version_get(NAMESPACE)


def column_totals(*, version: int | None) -> list[Column]:
    """Each status's count and amount, in the pipeline's order (New, In progress, Done).

    From the dashboard's rollup (dashboard.selectors.orders_by_status()), cached under the
    `clients` version: a hit is one cache read, any write retires it.
    """
    key = _key(version, "totals") if version is not None else None
    totals = cache.get(key) if key else None
    if totals is None:
        totals = _compute_totals()
        if key:
            cache.set(key, totals, TIMEOUT)
    labels = dict(Order.Status.choices)
    return [
        Column(status=status, label=labels[status], count=count, amount=amount)
        for status, (count, amount) in totals.items()
    ]


# --- The list -------------------------------------------------------------------------------
def order_search(queryset: QuerySet[Order], q: str) -> QuerySet[Order]:
    """Orders whose title or client's name contains `q`, case-insensitively.

    Not `Q(title__icontains=q) | Q(client__name__icontains=q)`: an OR across the join can use
    neither trigram index, and PostgreSQL scans every order. The clients are matched first
    (their own trigram index on UPPER(name)) and their ids go into the query as a plain list,
    so the OR is of two indexable conditions, the title's trigram index and
    `order_client_newest_first` (a BitmapOr), or a cheap filter on the walk of the sort index.
    """
    q = q.strip()
    if not q:
        return queryset
    if "\x00" in q:  # PostgreSQL refuses a NUL even as a parameter: it matches no stored text
        return queryset.none()
    client_ids = list(
        Client.objects.filter(name__icontains=q)
        .order_by()
        .values_list("pk", flat=True)[: SEARCH_CLIENTS_MAX + 1]
    )
    if len(client_ids) > SEARCH_CLIENTS_MAX:
        return queryset.filter(Q(title__icontains=q) | Q(client__name__icontains=q))
    return queryset.filter(Q(title__icontains=q) | Q(client_id__in=client_ids))


@dataclass(frozen=True)
class OrderFilters:
    """The list's parameters once checked: each one that was junk is dropped (and said so)."""

    status: str = ""
    client: Client | None = None
    q: str = ""
    sort: str = DEFAULT_SORT

    def queryset(self) -> QuerySet[Order]:
        orders = Order.objects.select_related("client")
        if self.status:
            orders = orders.filter(status=self.status)
        if self.client is not None:
            orders = orders.filter(client=self.client)
        return order_search(orders, self.q).order_by(*SORTS[self.sort])

    def cache_part(self) -> str:
        """What sets the rows apart, for cache keys (the version is added by the caller)."""
        client = self.client.pk if self.client else ""
        return _digest(f"{self.status}\n{client}\n{self.q}\n{self.sort}")


def order_count(filters: OrderFilters, totals: list[Column]) -> int | None:
    """How many orders `filters` match without counting them, or None when only a COUNT can
    tell (a search, or one client's orders of one open status)."""
    if filters.q:
        return None
    by_status = {column.status: column.count for column in totals}
    if filters.client is None:
        return by_status[filters.status] if filters.status else sum(by_status.values())
    client = filters.client
    if not filters.status:
        return client.orders_count
    if filters.status == Order.Status.DONE:
        return client.orders_count - client.open_orders_count
    return None


# A search counts its matches up to this many and then says "more than": a common word's full
# COUNT at a million orders is a parallel scan of ~350 ms, and no one pages past 400 pages.
COUNT_CAP = 10_000


def cached_count(filters: OrderFilters, queryset: QuerySet[Order], *, version: int | None) -> int:
    """COUNT(*) of `queryset` (built from `filters`), at most COUNT_CAP + 1 (more than the cap),
    cached under the `clients` version."""

    def count() -> int:
        # Unordered: the count stops after COUNT_CAP + 1 matches, whatever plan finds them.
        return queryset.order_by()[: COUNT_CAP + 1].count()

    if version is None:
        return count()
    key = _key(version, "count", filters.cache_part())
    found = cache.get(key)
    if found is None:
        found = count()
        cache.set(key, found, TIMEOUT)
    return found


def anchor_key(filters: OrderFilters, *, version: int | None) -> str | None:
    """The cache key prefix of the deep pages' anchors for `filters` (core.pagination), or None
    when the cache is down (the pages then use OFFSET)."""
    return None if version is None else _key(version, "anchors", filters.cache_part())


class OrderPaginator(AnchoredPaginator):
    """Pages of the list: the count from `count_of()` (never a bare COUNT(*), see the module),
    deep pages seeking from cached anchors."""

    def __init__(self, *args, count_of, **kwargs):
        super().__init__(*args, **kwargs)
        self._count_of = count_of

    @cached_property
    def count(self) -> int:
        return self._count_of()


def order_list_page(
    filters: OrderFilters,
    queryset: QuerySet[Order],
    *,
    number,
    per_page: int,
    version: int | None,
) -> Page:
    """The page `number` (the raw ?page=: junk or out of range gives the nearest real page) of
    `queryset`, the orders `filters` match (`filters.queryset()`), with its paginator and the
    per-status totals (`page.columns`)."""
    totals = column_totals(version=version)
    count = order_count(filters, totals)

    capped = []

    def count_of() -> int:
        if count is not None:
            return count
        found = cached_count(filters, queryset, version=version)
        capped.append(found > COUNT_CAP)
        return min(found, COUNT_CAP)

    paginator = OrderPaginator(
        queryset, per_page, count_of=count_of, anchor_key=anchor_key(filters, version=version)
    )
    page = paginator.get_page(number)
    page.columns = totals
    # More matches than counted: the pages reach COUNT_CAP, the page says "more than".
    page.count_capped = any(capped)
    return page


# --- The board ------------------------------------------------------------------------------
CARDS_PER_COLUMN = 20


def newest_cards(*, per_column: int = CARDS_PER_COLUMN) -> dict[str, list[Order]]:
    """Each status's newest orders with their clients: one query per status, each a short walk
    of `order_status_newest_first`."""
    orders = Order.objects.select_related("client").order_by("-created_at", "-id")
    return {
        status: list(orders.filter(status=status)[:per_column]) for status in Order.Status.values
    }


def money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def card_data(order: Order) -> dict:
    """An order as the board's script draws its card (orders/static/orders/board.js), for the
    board's JSON and the live events: plain values. The script writes created_at in the page's
    language and the user's time zone; created_label (the current ones) is its fallback."""
    return {
        "id": order.pk,
        "title": order.title,
        "amount": money(order.amount),
        "status": order.status,
        "created_at": order.created_at.isoformat(),
        "created_label": date_format(timezone.localtime(order.created_at)),
        "client": {
            "id": order.client_id,
            "name": order.client.name,
            "url": reverse("clients:detail", args=[order.client_id]),
        },
        "move_url": reverse("orders:move", args=[order.pk]),
    }
