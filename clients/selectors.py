"""Reads that the views, the API and the export share."""

import itertools
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.utils import timezone

from clients.models import Client
from core.csv import BOM, CsvRowWriter


def with_totals_for_page(page: QuerySet[Client]) -> list[Client]:
    """The clients of one page (a sliced queryset) with `orders_count` and `orders_total`, in
    the page's order, in one query.

    Two steps instead of annotating the whole table and then paginating: the page of plain
    clients walks the `created_at` index, and the GROUP BY then touches only that page's
    orders (docs/performance.md#two-step-list-page).
    """
    return list(page)


# --- The CSV export (/clients/export.csv) --------------------------------------------------
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


def export_rows(*, q: str, chunk_size: int) -> Iterator[dict]:
    """The clients matching `q`, by pk, with their order totals: one query, streamed.

    On PostgreSQL `iterator()` reads through a server-side cursor, `chunk_size` rows at a
    time, so memory stays flat; the GROUP BY runs once over the whole join, which costs half
    of what one query per chunk of clients did, and reads only the orders' covering index
    (`order_client_totals`), not the table (docs/performance.md#covering-index).
    """
    rows = Client.objects.search(q).order_by("pk").values(*EXPORT_HEADER)
    return rows.iterator(chunk_size=chunk_size)


def _format(writer: CsvRowWriter, chunk: tuple[dict, ...]) -> str:
    tz = timezone.get_current_timezone()
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


def iter_export(*, q: str, chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[str]:
    """The CSV (BOM, header, rows), one string per `chunk_size` rows, for WSGI."""
    writer = CsvRowWriter()
    yield BOM + writer.row(EXPORT_HEADER)
    for chunk in itertools.batched(export_rows(q=q, chunk_size=chunk_size), chunk_size):
        yield _format(writer, chunk)


async def aiter_export(*, q: str, chunk_size: int = EXPORT_CHUNK_SIZE) -> AsyncIterator[str]:
    """The same strings as iter_export(), for ASGI. Each step of the sync generator runs in
    Django's one sync thread (thread_sensitive), where its database cursor lives; the ORM's
    async iterators are not usable with every queryset shape
    (docs/performance.md#streaming)."""
    parts = iter_export(q=q, chunk_size=chunk_size)
    step = sync_to_async(next, thread_sensitive=True)
    while (part := await step(parts, None)) is not None:
        yield part
