import hashlib

from django.core.paginator import InvalidPage
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from clients.cache import ClientListPaginator, VersionedCountPaginator, client_list_keys


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (at most 100; more is capped). A junk or out-of-range page is
    a 404 with a JSON `detail`, DRF's default; a junk page size is a 400 (DRF would quietly use
    the default)."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw not in (None, "") and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError(
                {self.page_size_query_param: [_("Enter a whole number above 0.")]}
            )
        return super().get_page_size(request)


class ClientPagination(PageNumberPagination):
    """The pages of the client list as the web list pages it (clients.cache.ClientListPaginator
    over the view's `list_spec`, clients.selectors.ClientListSpec): the count and the deep
    pages' anchors from the versioned cache, each page one indexed query.

    The serialized page is cached too (docs/performance.md#api-json), under the page's key
    and what else the JSON depends on: the time zone (datetimes) and the scheme and host
    (absolute avatar URLs), never the user. It is read with the count and the anchor in one
    round trip, and the page is returned as its lazy queryset, so a cached page runs no query
    for its rows: `cached_data` is that JSON (None: serialize the page and store it under
    `page.cache_key`)."""

    def paginate_queryset(self, queryset, request, view=None):
        # PageNumberPagination.paginate_queryset, with the cached paginator and page.
        self.request = request
        page_size = self.get_page_size(request)
        keys = client_list_keys(view.list_spec)
        shape = f"{get_current_timezone_name()}\n{request.build_absolute_uri('/')}"
        shape = hashlib.sha256(shape.encode()).hexdigest()[:32]
        paginator = ClientListPaginator(
            queryset,
            page_size,
            keys=keys,
            page_key=lambda number: keys.page("json", shape, page_size, number),
            number=request.query_params.get(self.page_query_param),
        )
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as exc:
            msg = self.invalid_page_message.format(page_number=page_number, message=str(exc))
            raise NotFound(msg) from exc
        self.cached_data = paginator.cached_page_entry(self.page)
        return self.page.object_list


class OrderPagination(PageNumberPagination):
    django_paginator_class = VersionedCountPaginator
