"""The client list's cache: the page's DATA and the HTML of its rows, never the whole page.

Why not `cache_page`: it stores whole responses, and
- it stores the response before `Vary: Cookie` is added by the session and CSRF machinery
  (Django ticket #15855), so one user's page — their name in the header, their CSRF token —
  can be served to another user;
- a flash message rendered into a cached page is replayed on every hit, though it was
  consumed once;
- a cached CSRF token and any future CSP nonce would be the ones of the first request.

So the view renders the page's frame on every request (user, messages, CSRF token always
fresh) and only the expensive parts come from the cache, for `TIMEOUT` seconds: the
paginator's COUNT(*), the deep pages' anchors (core.pagination), and each page's rows with
their order totals and their rendered HTML. They are keyed by two versions that changes bump
after commit (through `clients_changed`), so an edit shows at once on every process that
shares the cache: NAMESPACE on any change to a client or an order, POSITIONS_NAMESPACE only
when the clients themselves change (the count and the anchors depend on nothing else). The
rows are cached as plain field values (not pickled model instances), so a deploy that changes
the model never unpickles stale objects.
"""

import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.template.loader import get_template
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from clients.events import clients_changed
from clients.models import Client
from clients.selectors import with_totals_for_page
from core.cache import version_bump, version_get, versions_get
from core.pagination import AnchoredPaginator, anchor_cache_key, block_of

NAMESPACE = "clients"
# Which clients exist and what they hold, but not their orders: the list's page anchors
# (core.pagination) depend on nothing else, so a day of new orders keeps them.
POSITIONS_NAMESPACE = "clients-positions"
TIMEOUT = 60  # seconds; the version makes it exact, the timeout only bounds memory
# Bump when the shape of the cached rows changes, so old entries are never read.
FORMAT = 2
ANNOTATIONS = ("orders_count", "orders_total")


@receiver(clients_changed, dispatch_uid="clients.cache.bump_client_list_version")
def bump_client_list_version(*, orders_only: bool = False, **kwargs) -> None:
    version_bump(NAMESPACE)
    if not orders_only:
        version_bump(POSITIONS_NAMESPACE)


def _key(version: int, q: str, *parts) -> str:
    # The query is hashed: keys stay short and free of spaces or control characters whatever
    # the user typed (memcached-safe, and no key injection).
    digest = hashlib.sha256(q.encode()).hexdigest()[:32]
    return ":".join(str(p) for p in (NAMESPACE, "list", FORMAT, version, digest, *parts))


class CachedCountPaginator(AnchoredPaginator):
    """A paginator whose COUNT(*) is read from the cache and stored there, under `count_key`
    (None: not cached). At 100k clients COUNT(*) is the page's most expensive query
    (docs/performance.md#versioned-cache) and it depends only on the version and the search.
    Deep pages seek from cached anchors (core.pagination) when given an `anchor_key`."""

    def __init__(self, *args, count_key: str | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        if self.count_key is None:
            return Paginator.count.func(self)
        key = self.count_key
        count = self.known[key] if key in self.known else cache.get(key)
        if count is None:
            count = Paginator.count.func(self)
            cache.set(self.count_key, count, TIMEOUT)
        return count


def versioned_query_key(queryset: QuerySet) -> str | None:
    """A cache key prefix for what `queryset` returns that any change to clients or orders
    retires: the version and the query's SQL (so every filter combination and ordering has
    its own entries). None when the cache is unavailable or the query can match nothing."""
    version = version_get(NAMESPACE)
    if version is None:
        return None
    try:
        sql = str(queryset.query)
    except EmptyResultSet:
        return None
    return _key(version, sql, queryset.model._meta.label_lower)


def cached[T](key: str | None, compute: Callable[[], T]) -> T:
    """The value cached under `key` (a key built from versioned_query_key or a page's
    `cache_key`), or `compute()` stored there; `key` None means no cache."""
    value = cache.get(key) if key is not None else None
    if value is None:
        value = compute()
        if key is not None:
            cache.set(key, value, TIMEOUT)
    return value


class VersionedCountPaginator(CachedCountPaginator):
    """Any queryset of clients or orders (the API's lists), its COUNT(*) and deep-page anchors
    cached under the list version and the query's SQL: over 100k clients or 1M orders the count
    is the most expensive query of a page, and any change to a client or an order retires it."""

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
    """Adds `orders_count` and `orders_total` to the clients of the requested page only, in
    two steps (clients.selectors.with_totals_for_page).

    The page's clients with their totals are cached like the count, under the same versioned
    SQL key plus the page size and number, as plain values like the list's rows: a repeated
    page runs no query at all. `page.cache_key` is that key (None: not cached), for a caller
    that caches what it makes of the page beside it. `_get_page` is Paginator's documented hook
    for the page object.
    """

    def _get_page(self, object_list, number, *args, **kwargs):
        key = None
        if self.query_key is not None:
            key = f"{self.query_key}:rows:{FORMAT}:{self.per_page}:{self.orphans}:{number}"
        rows = cache.get(key) if key is not None else None
        if rows is not None:
            clients = _load(rows)
        else:
            clients = with_totals_for_page(object_list)
            if key is not None:
                cache.set(key, _dump(clients), TIMEOUT)
        page = super()._get_page(clients, number, *args, **kwargs)
        page.cache_key = key
        return page


def _plain(value):
    # A file field's value is its name in the database; the FieldFile wrapper is rebuilt on load.
    return value.name if isinstance(value, FieldFile) else value


def _dump(clients: list[Client]) -> list[tuple]:
    names = [f.attname for f in Client._meta.concrete_fields]
    return [
        tuple(_plain(getattr(c, n)) for n in names) + tuple(getattr(c, a) for a in ANNOTATIONS)
        for c in clients
    ]


def _load(rows: list[tuple]) -> list[Client]:
    names = [f.attname for f in Client._meta.concrete_fields]
    clients = []
    for row in rows:
        # from_db: the instance is exactly what a query would have built (not `adding`).
        client = Client.from_db("default", names, row[: len(names)])
        for attribute, value in zip(ANNOTATIONS, row[len(names) :], strict=True):
            setattr(client, attribute, value)
        clients.append(client)
    return clients


def _page_number(number) -> int:
    """The page a raw ?page= value most likely ends up on (get_page has the last word)."""
    try:
        return max(1, int(number))
    except (TypeError, ValueError):
        return 1


ROWS_TEMPLATE = "clients/client_rows.html"
PAGINATION_TEMPLATE = "includes/pagination.html"


def client_list_page(
    queryset: QuerySet[Client], *, q: str, number, per_page: int, list_url: str, can_change: bool
) -> tuple[Paginator, Page]:
    """One page of `queryset` (the clients matching the search `q`, which must be what built
    `queryset`), from the cache when it can:

    - `page.object_list`: the page's clients with `orders_count` and `orders_total`;
    - `page.html`: the HTML of its `<tr>`s ("rows", by ROWS_TEMPLATE) and of its page links
      ("pagination", by PAGINATION_TEMPLATE), whose links start with `list_url`; each row has an
      Edit link when `can_change`.

    `number` is the raw ?page= value: a junk or out-of-range number gives the nearest real
    page, as Paginator.get_page does. On a miss the COUNT(*) and the page's anchor
    (core.pagination) may still come from the cache. When the cache is unavailable,
    everything comes from the database and is rendered afresh.

    Rendering ten rows (filters, dates, numbers, escaping) and the page links was about half
    of the list page's CPU, and both depend only on the page's data and the search, so the
    clients and their HTML are one cache entry: a hit is one read. Its key holds the list
    version, the search and the page, so any change re-renders them; it also holds what else
    shapes the HTML: the active language and time zone (number and date formats), the rows'
    link prefix, whether the rows carry Edit links (the user's one say in them) and the
    templates' own source (a deploy that changes a template never serves the old markup).
    Nothing else in them depends on the user, the CSRF token or a message, which is why the
    whole page is still never cached.
    """
    q = (q or "").strip()
    templates = {
        "rows": get_template(ROWS_TEMPLATE),
        "pagination": get_template(PAGINATION_TEMPLATE),
    }
    # Each cache call is a network round trip, about as costly as a small query: a hit makes
    # two (the versions, then the count with the page), a miss one more to store the page.
    version, positions = versions_get(NAMESPACE, POSITIONS_NAMESPACE)
    if version is None or positions is None:  # the cache is down: all from the database
        paginator = CachedCountPaginator(queryset, per_page, count_key=None)
        page_key = None
    else:
        shape = "\n".join(
            (
                get_language() or "",
                get_current_timezone_name(),
                list_url,
                str(can_change),
                *(template.template.source for template in templates.values()),
            )
        )
        shape_digest = hashlib.sha256(shape.encode()).hexdigest()[:32]

        def page_key(number: int) -> str:
            return _key(version, q, per_page, number, "page", shape_digest)

        # Which clients match and how they sort depends on clients only, so the count and the
        # anchors follow the positions version: a new order keeps them.
        count_key, anchors = _key(positions, q, "count"), _key(positions, q, "positions")
        # Read the count, and the page and anchor of the number asked for, together: the
        # guess is right unless the number is junk or out of range.
        guess = _page_number(number)
        asked = [count_key, page_key(guess), anchor_cache_key(anchors, block_of(guess, per_page))]
        found = cache.get_many(asked)
        paginator = CachedCountPaginator(
            queryset,
            per_page,
            count_key=count_key,
            anchor_key=anchors,
            known={key: found.get(key) for key in asked},  # None: missing, no need to ask again
        )
    page = paginator.get_page(number)
    if page_key is not None:
        key = page_key(page.number)
        entry = paginator.known[key] if key in paginator.known else cache.get(key)
        if entry is not None:
            page.object_list = _load(entry["rows"])
            page.html = {name: mark_safe(html) for name, html in entry["html"].items()}
            return paginator, page
    page.object_list = with_totals_for_page(page.object_list)
    context = {
        "clients": page.object_list,
        "list_url": list_url,
        "can_change": can_change,
        "page_obj": page,
        "page_range": paginator.get_elided_page_range(page.number),
        "q": q,
    }
    html = {name: str(template.render(context)) for name, template in templates.items()}
    if page_key is not None:
        cache.set(key, {"rows": _dump(page.object_list), "html": html}, TIMEOUT)
    page.html = {name: mark_safe(fragment) for name, fragment in html.items()}
    return paginator, page
