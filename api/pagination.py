from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from clients.cache import ClientTotalsPaginator, VersionedCountPaginator


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


class ClientPagination(PageNumberPagination):
    """The clients of a page with their order totals, the page and its count cached
    (clients.cache.ClientTotalsPaginator)."""

    django_paginator_class = ClientTotalsPaginator


class OrderPagination(PageNumberPagination):
    django_paginator_class = VersionedCountPaginator
