from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from clients.cache import FORMAT, CachedCountPaginator, cached_clients, versioned_query_key
from clients.selectors import with_totals_for_page


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (at most 100; more is capped). A junk or out-of-range page is
    a 404 with a JSON `detail`, DRF's default; a junk page size is a 400 (DRF would quietly use
    the default)."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw not in (None, "") and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_size_query_param: ["Enter a whole number above 0."]})
        return super().get_page_size(request)


class VersionedCountPaginator(CachedCountPaginator):
    """COUNT(*) from the cache, keyed by the list version and the query's SQL: over 100k
    clients or 1M orders the count is the most expensive query of a page, and any change to a
    client or an order retires it (clients.cache)."""

    def __init__(self, object_list, per_page, **kwargs):
        # The SQL is compiled once: the count's, the anchors' and the page's keys share this
        # prefix. Its version is the one every order change bumps too, since filters such as
        # `active` depend on orders.
        self.query_key = key = versioned_query_key(object_list)
        super().__init__(
            object_list,
            per_page,
            count_key=None if key is None else f"{key}:count",
            anchor_key=None if key is None else f"{key}:anchors",
            **kwargs,
        )


class ClientTotalsPaginator(VersionedCountPaginator):
    """Adds `orders_count` and `orders_total` to the clients of the requested page only.

    Annotating the whole client table and then paginating costs ~1.2 s a page at 100k clients
    / 1M orders; slicing plain clients first and aggregating the page's orders costs a few ms
    (shared/PERF-NOTES.md). `_get_page` is Paginator's documented hook for the page object.

    The page's clients with their totals are cached like the count, under the same versioned
    SQL key plus the page size and number: a repeated page runs no query at all, and any
    change to a client or an order retires it (clients.cache).
    """

    def _get_page(self, object_list, number, *args, **kwargs):
        key = None
        if self.query_key is not None:
            key = f"{self.query_key}:rows:{FORMAT}:{self.per_page}:{self.orphans}:{number}"
        clients = cached_clients(key, lambda: with_totals_for_page(object_list))
        page = super()._get_page(clients, number, *args, **kwargs)
        page.cache_key = key  # the viewset caches the serialized page under it (api.views)
        return page


class ClientPagination(PageNumberPagination):
    django_paginator_class = ClientTotalsPaginator


class OrderPagination(PageNumberPagination):
    django_paginator_class = VersionedCountPaginator
