"""The client list as a streamed CSV download (`/clients/export.csv`).

Memory stays flat and the query count grows with the number of chunks, not rows: the rows are
read in keyset chunks (`pk > last`, `chunk_size` at a time), each chunk with its order totals
in one query, and written out before the next chunk is read.

Which generator streams depends on the server (shared/PERF-NOTES.md): under WSGI (gunicorn)
Django streams a sync iterator but buffers an async one; under ASGI (daphne in `make run`,
uvicorn) it is the reverse. The view picks by the request's handler.
"""

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


def export_chunk(*, q: str, after_pk: int, size: int) -> list[dict]:
    """Up to `size` clients matching `q` with pk > `after_pk`, by pk, with their order totals.

    One query: the chunk's pks are picked by the pk index first, and only their orders are
    grouped (the same two-step shape as clients.selectors.with_totals_for_page).
    """
    pks = Client.objects.search(q).filter(pk__gt=after_pk).order_by("pk").values("pk")[:size]
    rows = Client.objects.filter(pk__in=pks).with_order_totals().order_by("pk")
    return list(rows.values(*FIELDS))


def _format(writer: CsvRowWriter, chunk: list[dict]) -> str:
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
    """The CSV (BOM, header, rows), one string per chunk, for WSGI."""
    writer = CsvRowWriter()
    yield BOM + writer.row(HEADER)
    after = 0
    while True:
        chunk = export_chunk(q=q, after_pk=after, size=chunk_size)
        if chunk:
            yield _format(writer, chunk)
        if len(chunk) < chunk_size:
            return
        after = chunk[-1]["id"]


async def aiter_export(*, q: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[str]:
    """The same bytes as iter_export(), for ASGI: each chunk is read in Django's sync thread
    (the ORM's async iterators are not usable with every queryset shape, PERF-NOTES)."""
    read = sync_to_async(export_chunk, thread_sensitive=True)
    writer = CsvRowWriter()
    yield BOM + writer.row(HEADER)
    after = 0
    while True:
        chunk = await read(q=q, after_pk=after, size=chunk_size)
        if chunk:
            yield _format(writer, chunk)
        if len(chunk) < chunk_size:
            return
        after = chunk[-1]["id"]


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
