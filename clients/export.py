"""The client list as a streamed CSV download (`/clients/export.csv`).

Memory stays flat and there is one query whatever the number of rows: the rows stream from
the database `chunk_size` at a time, and each chunk is written out before the next is read.

Which generator streams depends on the server (shared/PERF-NOTES.md): under WSGI (gunicorn)
Django streams a sync iterator but buffers an async one; under ASGI (daphne in `make run`,
uvicorn) it is the reverse. The view picks by the request's handler.
"""

import itertools
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views import View

from clients.models import Client
from core.csv import BOM, CsvRowWriter

HEADER = [
    "id",
    "name",
    "email",
    "phone",
    "vip",
    "created_at",
    "orders_count",
    "orders_total",
]
FIELDS = HEADER
CHUNK_SIZE = 2_000
CENTS = Decimal("0.01")


def export_rows(*, q: str, chunk_size: int) -> Iterator[dict]:
    """The clients matching `q`, by pk, with their order totals: one query, streamed.

    On PostgreSQL `iterator()` reads through a server-side cursor, `chunk_size` rows at a
    time, so memory stays flat; the GROUP BY runs once over the whole join, which at 100k
    clients / 1M orders costs half of what one query per chunk of clients did, and reads only
    the orders' covering index (`order_client_totals`), not the table.
    """
    rows = Client.objects.search(q).with_order_totals().order_by("pk").values(*FIELDS)
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


def iter_export(*, q: str, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The CSV (BOM, header, rows), one string per `chunk_size` rows, for WSGI."""
    writer = CsvRowWriter()
    yield BOM + writer.row(HEADER)
    for chunk in itertools.batched(export_rows(q=q, chunk_size=chunk_size), chunk_size):
        yield _format(writer, chunk)


async def aiter_export(*, q: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[str]:
    """The same strings as iter_export(), for ASGI. Each step of the sync generator runs in
    Django's one sync thread (thread_sensitive), where its database cursor lives; the ORM's
    async iterators are not usable with every queryset shape (PERF-NOTES)."""
    parts = iter_export(q=q, chunk_size=chunk_size)
    step = sync_to_async(next, thread_sensitive=True)
    while (part := await step(parts, None)) is not None:
        yield part


class ClientExportView(LoginRequiredMixin, View):
    """GET /clients/export.csv[?q=...]: the clients the list would show, as a CSV download."""

    chunk_size = CHUNK_SIZE

    def get(self, request, *args, **kwargs):
        q = request.GET.get("q", "").strip()
        if isinstance(request, ASGIRequest):
            content = aiter_export(q=q, chunk_size=self.chunk_size)
        else:
            content = iter_export(q=q, chunk_size=self.chunk_size)
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        filename = f"clients-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # A download of live data: never from a shared cache.
        response["Cache-Control"] = "private, no-store"
        return response
