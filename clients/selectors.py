"""Reads that the views, the API and the export share."""

import itertools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.utils import timezone

from clients.models import Client, TrashedClient, name_or_email_search
from core.csv import BOM, CsvRowWriter

# --- The client list: one indexed query a page, for the web list, the API and the export --
# The list's `?sort=` keys, each also with a leading "-" (descending). Each has an index that
# ends with the id (clients/models.py, Client.Meta.indexes), read forwards or backwards.
SORTS = ("name", "orders_count", "orders_total", "created_at")
DEFAULT_SORT = "-created_at"
# The stored roll-ups: the database triggers change them with the orders (clients/triggers.py)
# and no client event says so, so what depends on them is versioned by the orders too
# (clients/cache.py).
ORDER_FIELDS = frozenset({"orders_count", "orders_total", "open_orders_count"})


def parse_sort(raw: str | None) -> str | None:
    """`raw` when it is one of the list's sorts (`name`, `-orders_total`, ...), else None."""
    if raw and raw.removeprefix("-") in SORTS:
        return raw
    return None


def ordering_with_tie_breaker(terms: Sequence[str]) -> tuple[str, ...]:
    """`terms` followed by the id, in the direction of the last term: a total order (no two
    rows tie, so pages never overlap) that each (field, id) index serves in one scan."""
    terms = tuple(terms)
    if not terms:
        return (DEFAULT_SORT, "-id")
    if terms[-1].removeprefix("-") in ("id", "pk"):
        return terms
    return (*terms, "-id" if terms[-1].startswith("-") else "id")


@dataclass(frozen=True, slots=True)
class ClientListSpec:
    """What a list of clients shows: the search, the filters and the order (a total order,
    ending with the id). The web list, the API list and the export each build one from their
    parameters; its `queryset()` is the one query of a page, and its parts key the cache."""

    q: str = ""
    ordering: tuple[str, ...] = (DEFAULT_SORT, "-id")
    vip: bool | None = None
    active: bool | None = None

    @classmethod
    def build(
        cls,
        *,
        q: str = "",
        sort: str | Sequence[str] = DEFAULT_SORT,
        vip: bool | None = None,
        active: bool | None = None,
    ) -> "ClientListSpec":
        terms = (sort,) if isinstance(sort, str) else tuple(sort)
        return cls(
            q=(q or "").strip(), ordering=ordering_with_tie_breaker(terms), vip=vip, active=active
        )

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> "ClientListSpec":
        """The web list's parameters: `q`, `sort` (an unknown one is the default), and `vip=1`
        / `active=1` (any other value: no filter; the page offers only those two)."""
        return cls.build(
            q=params.get("q", ""),
            sort=parse_sort(params.get("sort")) or DEFAULT_SORT,
            vip=True if params.get("vip") == "1" else None,
            active=True if params.get("active") == "1" else None,
        )

    @property
    def sort(self) -> str:
        """The web list's `?sort=` value: the ordering without its tie-breaker."""
        return self.ordering[0]

    @property
    def filtered(self) -> bool:
        return self.vip is not None or self.active is not None

    @property
    def count_follows_orders(self) -> bool:
        """Whether which clients match can change with an order (`active`)."""
        return self.active is not None

    @property
    def positions_follow_orders(self) -> bool:
        """Whether the clients' positions in the list can change with an order: the `active`
        filter, or a sort by a roll-up."""
        return self.count_follows_orders or any(
            term.removeprefix("-") in ORDER_FIELDS for term in self.ordering
        )

    def params(self) -> dict:
        """This list as client_list()'s (and iter_export()'s) keyword arguments."""
        return {"q": self.q, "sort": self.ordering, "vip": self.vip, "active": self.active}

    def queryset(self) -> QuerySet[Client]:
        clients = Client.objects.search(self.q)
        if self.vip is not None:
            clients = clients.filter(vip=self.vip)
        if self.active is True:
            clients = clients.active()
        elif self.active is False:
            clients = clients.filter(open_orders_count=0)
        return clients.order_by(*self.ordering)

    def query_string(self, **changes) -> str:
        """The web list's query string for this list (`q`, `sort`, `vip`, `active`, only those
        that differ from the defaults), with `changes` applied (None drops a parameter), ending
        with "&" when not empty so that a caller may append `page=N`."""
        params = {
            "q": self.q or None,
            "sort": None if self.sort == DEFAULT_SORT else self.sort,
            "vip": "1" if self.vip else None,
            "active": "1" if self.active else None,
        }
        params.update(changes)
        if params["sort"] == DEFAULT_SORT:
            params["sort"] = None
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{query}&" if query else ""


def client_list(
    *,
    q: str = "",
    sort: str | Sequence[str] = DEFAULT_SORT,
    vip: bool | None = None,
    active: bool | None = None,
) -> QuerySet[Client]:
    """The clients matching the search `q` and the filters, in the order `sort` (one term of
    SORTS or a sequence of field names, each maybe with "-"), the id breaking ties: the query
    the list pages, the API and the export read, each page of it one indexed query on the
    stored roll-ups (no GROUP BY)."""
    return ClientListSpec.build(q=q, sort=sort, vip=vip, active=active).queryset()


# --- The CSV export (/clients/export.csv) --------------------------------------------------
# English in every language, as field names: the import (imports/columns.py) reads an export
# back by them, and programs read its columns. Only the values follow the user: created_at in
# their time zone (iter_export).
EXPORT_HEADER = [
    "id",
    "name",
    "email",
    "phone",
    "vip",
    "created_at",
    "orders_count",
    "orders_total",
]
EXPORT_CHUNK_SIZE = 2_000
CENTS = Decimal("0.01")


def export_rows(*, chunk_size: int, **params) -> Iterator[dict]:
    """The clients of client_list(**params) (the list's search, filters and order) with their
    stored totals: one query, streamed.

    On PostgreSQL `iterator()` reads through a server-side cursor, `chunk_size` rows at a
    time, so memory stays flat; the rows walk the sort's own index and need no GROUP BY, since
    the totals are stored on the client (docs/performance.md#covering-index).
    """
    return client_list(**params).values(*EXPORT_HEADER).iterator(chunk_size=chunk_size)


def _format(writer: CsvRowWriter, chunk: tuple[dict, ...], tz) -> str:
    return writer.rows(
        (
            row["id"],
            row["name"],
            row["email"],
            row["phone"],
            row["vip"],
            row["created_at"].astimezone(tz),
            row["orders_count"],
            # SQLite hands back Decimal("0") for a client with no orders: always two places.
            row["orders_total"].quantize(CENTS),
        )
        for row in chunk
    )


def iter_export(*, chunk_size: int = EXPORT_CHUNK_SIZE, **params) -> Iterator[str]:
    """The CSV (BOM, header, rows) of client_list(**params), one string per `chunk_size` rows,
    for WSGI.

    created_at in the requesting user's zone: the zone current when this is called (the view,
    inside the request), taken now, as the rows are made later, while the response streams,
    when the request's zone may be gone (under ASGI, each row step runs in a sync thread).
    The header stays English in every language: the import reads an export back by these
    names, and programs read its columns."""
    return _export(chunk_size=chunk_size, tz=timezone.get_current_timezone(), params=params)


def _export(*, chunk_size: int, tz, params: dict) -> Iterator[str]:
    writer = CsvRowWriter()
    yield BOM + writer.row(EXPORT_HEADER)
    for chunk in itertools.batched(export_rows(chunk_size=chunk_size, **params), chunk_size):
        yield _format(writer, chunk, tz)


def aiter_export(*, chunk_size: int = EXPORT_CHUNK_SIZE, **params) -> AsyncIterator[str]:
    """The same strings as iter_export(), for ASGI. Each step of the sync generator runs in
    Django's one sync thread (thread_sensitive), where its database cursor lives; the ORM's
    async iterators are not usable with every queryset shape
    (docs/performance.md#streaming). Not itself async: iter_export() is called here, in the
    view, so that it takes the request's time zone."""
    return _astream(iter_export(chunk_size=chunk_size, **params))


async def _astream(parts: Iterator[str]) -> AsyncIterator[str]:
    step = sync_to_async(next, thread_sensitive=True)
    while (part := await step(parts, None)) is not None:
        yield part


def trash_list(*, q: str = "") -> QuerySet:
    """The trash, newest first, searched by name or email; without the rows it keeps (a
    client's orders can be megabytes)."""
    trash = TrashedClient.objects.select_related("deleted_by").defer("rows")
    return name_or_email_search(trash, q)
