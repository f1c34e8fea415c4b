"""The client list's cache: the page's DATA, never the rendered page.

Why not `cache_page`: it stores whole responses, and
- it stores the response before `Vary: Cookie` is added by the session and CSRF machinery
  (Django ticket #15855), so one user's page — their name in the header, their CSRF token —
  can be served to another user;
- a flash message rendered into a cached page is replayed on every hit, though it was
  consumed once;
- a cached CSRF token and any future CSP nonce would be the ones of the first request.

So the view renders the template on every request (user, messages, CSRF token always fresh)
and only the expensive parts come from the cache: the paginator's COUNT(*) and the page's rows
with their order totals, for `TIMEOUT` seconds. Both are keyed by the list's version, which any
change to a client or an order bumps (after commit, through `clients_changed`): an edit shows
at once, on every process that shares the cache. The rows are cached as plain field values
(not pickled model instances), so a deploy that changes the model never unpickles stale
objects.
"""

import hashlib
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.template.loader import get_template
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from clients.events import clients_changed
from clients.models import Client
from clients.selectors import with_totals_for_page
from core.cache import cache_get, cache_set, version_bump, version_get
from core.pagination import AnchoredPaginator

NAMESPACE = "clients"
# Which clients exist and what they hold, but not their orders: the list's page anchors
# (core.pagination) depend on nothing else, so a day of new orders keeps them.
POSITIONS_NAMESPACE = "clients-positions"
TIMEOUT = 60  # seconds; the version makes it exact, the timeout only bounds memory
# Bump when the shape of the cached rows changes, so old entries are never read.
FORMAT = 1
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
    (~1.3 ms, 700–800/s on PostgreSQL) and it depends only on the version and the search.
    Deep pages seek from cached anchors (core.pagination) when given an `anchor_key`."""

    def __init__(self, *args, count_key: str | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        if self.count_key is None:
            return Paginator.count.func(self)
        count = cache_get(self.count_key)
        if count is None:
            count = Paginator.count.func(self)
            cache_set(self.count_key, count, TIMEOUT)
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


def versioned_count_key(queryset: QuerySet) -> str | None:
    """A cache key for `queryset.count()` (see versioned_query_key)."""
    prefix = versioned_query_key(queryset)
    return None if prefix is None else f"{prefix}:count"


def cached_clients(key: str | None, compute: Callable[[], list[Client]]) -> list[Client]:
    """The clients (with `orders_count` and `orders_total`) cached under `key`, or `compute()`
    stored there; `key` None means no cache. Stored as plain values, like the list's rows."""
    rows = cache_get(key) if key is not None else None
    if rows is not None:
        return _load(rows)
    clients = compute()
    if key is not None:
        cache_set(key, _dump(clients), TIMEOUT)
    return clients


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


def client_list_page(
    queryset: QuerySet[Client], *, q: str, number, per_page: int
) -> tuple[Paginator, Page]:
    """One page of `queryset` (the clients matching the search `q`, which must be what built
    `queryset`), each with `orders_count` and `orders_total`, from the cache when it can.

    `number` is the raw ?page= value: a junk or out-of-range number gives the nearest real
    page, as Paginator.get_page does, and the rows are keyed by that real page. On a miss the
    COUNT(*) may still come from the cache. When the cache is unavailable, everything comes
    from the database.
    """
    q = (q or "").strip()
    version = version_get(NAMESPACE)
    keyed = version is not None

    def anchor_key() -> str | None:
        # The search matches names and emails and the list sorts by creation: orders never
        # move a client, so the anchors follow the positions version only.
        positions = version_get(POSITIONS_NAMESPACE)
        return None if positions is None else _key(positions, q, "positions")

    paginator = CachedCountPaginator(
        queryset,
        per_page,
        count_key=_key(version, q, "count") if keyed else None,
        anchor_key=anchor_key if keyed else None,
    )
    page = paginator.get_page(number)
    rows_key = _key(version, q, per_page, page.number) if keyed else None
    page.rows_key = rows_key  # list_fragments() keys the rendered HTML by it
    rows = cache_get(rows_key) if keyed else None
    if rows is not None:
        page.object_list = _load(rows)
    else:
        page.object_list = with_totals_for_page(page.object_list)
        if keyed:
            cache_set(rows_key, _dump(page.object_list), TIMEOUT)
    return paginator, page


ROWS_TEMPLATE = "clients/client_rows.html"
PAGINATION_TEMPLATE = "includes/pagination.html"


def list_fragments(page: Page, *, list_url: str, q: str, page_range) -> dict[str, SafeString]:
    """The `<tr>`s of a page from `client_list_page` ("rows", by ROWS_TEMPLATE) and its page
    links ("pagination", by PAGINATION_TEMPLATE).

    Rendering ten rows (filters, dates, numbers, escaping) and the page links was about half
    of the list page's CPU, and both depend only on the page's data and the search, so the
    HTML is cached beside the rows, under their key. That key holds the list version, the
    search and the page, so any change re-renders them. The key also holds what else shapes
    the HTML: the active language and time zone (number and date formats), the rows' link
    prefix and the templates' own source (a deploy that changes a template never serves the
    old markup). Nothing in them depends on the user, the CSRF token or a message, which is
    why the whole page is still never cached.
    """
    templates = {
        "rows": get_template(ROWS_TEMPLATE),
        "pagination": get_template(PAGINATION_TEMPLATE),
    }
    key = getattr(page, "rows_key", None)
    if key is not None:
        shape = "\n".join(
            (
                get_language() or "",
                get_current_timezone_name(),
                list_url,
                *(template.template.source for template in templates.values()),
            )
        )
        key = f"{key}:html:{hashlib.sha256(shape.encode()).hexdigest()[:32]}"
        html = cache_get(key)
        if html is not None:
            return {name: mark_safe(fragment) for name, fragment in html.items()}
    context = {
        "clients": page.object_list,
        "list_url": list_url,
        "page_obj": page,
        "page_range": page_range,
        "q": q,
    }
    html = {name: str(template.render(context)) for name, template in templates.items()}
    if key is not None:
        cache_set(key, html, TIMEOUT)
    return {name: mark_safe(fragment) for name, fragment in html.items()}
