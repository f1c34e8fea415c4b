from django.core.paginator import Paginator
from rest_framework import pagination

from clients.selectors import with_totals_for_page


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (at most 100). A junk or out-of-range page is a 404 with a
    JSON `detail`, DRF's default."""

    page_size_query_param = "page_size"
    max_page_size = 100


class ClientTotalsPaginator(Paginator):
    """Adds `orders_count` and `orders_total` to the clients of the requested page only.

    Annotating the whole client table and then paginating costs ~1.2 s a page at 100k clients
    / 1M orders; slicing plain clients first and aggregating the page's orders costs a few ms
    (shared/PERF-NOTES.md). `_get_page` is Paginator's documented hook for the page object.
    """

    def _get_page(self, object_list, *args, **kwargs):
        return super()._get_page(with_totals_for_page(object_list), *args, **kwargs)


class ClientPagination(PageNumberPagination):
    django_paginator_class = ClientTotalsPaginator
