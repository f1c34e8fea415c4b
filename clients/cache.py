"""The client list's cache: the page's DATA and the HTML of its rows, never the whole page.

Why not `cache_page`: it stores whole responses, and
- it stores the response before `Vary: Cookie` is added by the session and CSRF machinery
  (Django ticket #15855), so one user's page — their name in the header, their CSRF token —
  can be served to another user;
- a flash message rendered into a cached page is replayed on every hit, though it was
  consumed once;
- a cached CSRF token and any future CSP nonce would be the ones of the first request.

So the view renders the page's frame on every request (user, messages, CSRF token always
fresh) and only what costs more than reading it back comes from the cache, for `TIMEOUT`
seconds: the paginator's COUNT(*), the deep pages' anchors (core.pagination), and each page's
rendered rows (the web list) or serialized JSON (the API). A page itself is one indexed query
on the stored roll-ups (clients.selectors.client_list); docs/performance.md#versioned-cache
has the figures that decided what is cached.

The entries are keyed by two versions that changes bump after commit (through
`clients_changed`), so an edit shows at once on every process that shares the cache:
NAMESPACE on any change to a client or an order, POSITIONS_NAMESPACE only when the clients
themselves change. A count or anchors that orders can change — the `active` filter, a sort by
`orders_total` or `orders_count`, whose stored values the database triggers change with no
client event — follow NAMESPACE; the others follow POSITIONS_NAMESPACE, so a day of new orders
keeps them. The rows are cached as plain field values (not pickled model instances), so a
deploy that changes the model never unpickles stale objects.
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
from clients.selectors import ClientListSpec
from core.cache import version_bump, version_get, versions_get
from core.pagination import AnchoredPaginator, anchor_cache_key, block_of

NAMESPACE = "clients"
# Which clients exist and what they hold, but not their orders: the count and anchors of a
# list that neither filters nor sorts by the orders depend on nothing else.
POSITIONS_NAMESPACE = "clients-positions"
TIMEOUT = 60  # seconds; the version makes it exact, the timeout only bounds memory
# Bump when the shape of the cached entries changes, so old entries are never read.
FORMAT = 3


@receiver(clients_changed, dispatch_uid="clients.cache.bump_client_list_version")
def bump_client_list_version(*, orders_only: bool = False, **kwargs) -> None:
    version_bump(NAMESPACE)
    if not orders_only:
        version_bump(POSITIONS_NAMESPACE)


def _digest(*parts: str) -> str:
    # What the user typed is hashed: keys stay short and free of spaces or control characters
    # (memcached-safe, and no key injection).
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _key(version: int, digest: str, *parts) -> str:
    return ":".join(str(p) for p in (NAMESPACE, "list", FORMAT, version, digest, *parts))


class CachedCountPaginator(AnchoredPaginator):
    """A paginator whose COUNT(*) is read from the cache and stored there, under `count_key`
    (None: not cached). At 100k clients COUNT(*) costs more than the page's own query
    (docs/performance.md#versioned-cache). Deep pages seek from cached anchors
    (core.pagination) when given an `anchor_key`."""

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
    return _key(version, _digest(sql), queryset.model._meta.label_lower)


class VersionedCountPaginator(CachedCountPaginator):
    """Any queryset (the API's orders), its COUNT(*) and deep-page anchors cached under the list
    version and the query's SQL: over 1M orders the count is the most expensive query of a
    page, and any change to a client or an order retires it."""

    def __init__(self, object_list, per_page, **kwargs):
        self.query_key = key = versioned_query_key(object_list)
        super().__init__(
            object_list,
            per_page,
            count_key=None if key is None else f"{key}:count",
            anchor_key=None if key is None else f"{key}:anchors",
            **kwargs,
        )


# --- The client list: the web page and the API share these -------------------------------
class ClientListKeys:
    """The cache keys of one client list (a ClientListSpec), under the current versions.

    The count depends on the search and the filters, the anchors on the order too; each
    follows the orders' version only when orders can change it (the module docstring). The
    keys are built from the spec's parameters, not the query's SQL: compiling the SQL for a
    key cost about as much as the page's own query."""

    def __init__(self, spec: ClientListSpec, version: int, positions: int):
        filters = (spec.q, repr(spec.vip), repr(spec.active))
        whole = _digest(*filters, *spec.ordering)
        counted = version if spec.count_follows_orders else positions
        placed = version if spec.positions_follow_orders else positions
        self.count = _key(counted, _digest(*filters), "count")
        self.anchors = _key(placed, whole, "positions")
        self._pages = _key(version, whole)

    def page(self, kind: str, shape: str, per_page: int, number: int) -> str:
        """The key of one page's entry of `kind` ("html", "json"); `shape` is a digest of what
        else the entry depends on."""
        return f"{self._pages}:{kind}:{shape}:{per_page}:{number}"


def client_list_keys(spec: ClientListSpec) -> ClientListKeys | None:
    """The list's keys, both versions read in one round trip; None when the cache is down."""
    version, positions = versions_get(NAMESPACE, POSITIONS_NAMESPACE)
    if version is None or positions is None:
        return None
    return ClientListKeys(spec, version, positions)


def page_number_guess(number) -> int:
    """The page a raw ?page= value most likely ends up on (the paginator has the last word)."""
    try:
        return max(1, int(number))
    except (TypeError, ValueError):
        return 1


class ClientListPaginator(CachedCountPaginator):
    """The pages of a client list: its COUNT(*) and anchors under `keys` (None: nothing cached).

    `page_key(number)` names the cache entry the caller keeps for a page (its HTML, its JSON);
    the count, the anchor of the page asked for and that entry are read in one round trip."""

    def __init__(
        self,
        queryset: QuerySet[Client],
        per_page: int,
        *,
        keys: ClientListKeys | None,
        page_key: Callable[[int], str] | None = None,
        number=None,
    ):
        self.page_key = page_key if keys is not None else None
        known = {}
        if keys is not None:
            guess = page_number_guess(number)
            asked = [keys.count, anchor_cache_key(keys.anchors, block_of(guess, per_page))]
            if self.page_key is not None:
                asked.append(self.page_key(guess))
            found = cache.get_many(asked)
            known = {key: found.get(key) for key in asked}  # None: missing, no need to ask again
        super().__init__(
            queryset,
            per_page,
            count_key=keys and keys.count,
            anchor_key=keys and keys.anchors,
            known=known,
        )

    def cached_page_entry(self, page: Page):
        """The caller's cached entry for `page`, or None; its key as `page.cache_key`."""
        page.cache_key = key = self.page_key(page.number) if self.page_key else None
        if key is None:
            return None
        return self.known[key] if key in self.known else cache.get(key)


# --- The web list's rows and page links --------------------------------------------------
def _plain(value):
    # A file field's value is its name in the database; the FieldFile wrapper is rebuilt on load.
    return value.name if isinstance(value, FieldFile) else value


ROW_FIELDS = [f.attname for f in Client._meta.concrete_fields]


def _dump(clients) -> list[tuple]:
    return [tuple(_plain(getattr(c, n)) for n in ROW_FIELDS) for c in clients]


def _load(rows: list[tuple]) -> list[Client]:
    # from_db: the instance is exactly what a query would have built (not `adding`).
    return [Client.from_db("default", ROW_FIELDS, row) for row in rows]


ROWS_TEMPLATE = "clients/client_rows.html"
PAGINATION_TEMPLATE = "includes/pagination.html"


def client_list_page(
    queryset: QuerySet[Client],
    *,
    spec: ClientListSpec,
    number,
    per_page: int,
    list_url: str,
    can_change: bool,
) -> tuple[Paginator, Page]:
    """One page of `queryset`, the client list `spec` (`spec.queryset()`), from the cache when
    it can:

    - `page.object_list`: the page's clients;
    - `page.html`: the HTML of its `<tr>`s ("rows", by ROWS_TEMPLATE) and of its page links
      ("pagination", by PAGINATION_TEMPLATE, keeping the spec's parameters), whose links start
      with `list_url`; each row has an Edit link when `can_change`.

    `number` is the raw ?page= value: a junk or out-of-range number gives the nearest real
    page, as Paginator.get_page does. On a miss the COUNT(*) and the page's anchor
    (core.pagination) may still come from the cache. When the cache is unavailable,
    everything comes from the database and is rendered afresh.

    Rendering ten rows (filters, dates, numbers, escaping) and the page links costs more CPU
    than the page's query, and both depend only on the page's data and the list's parameters,
    so the clients and their HTML are one cache entry: a hit is one read. Its key holds the
    list version, the parameters and the page; it also holds what else shapes the HTML: the
    active language and time zone (number and date formats), the rows' link prefix, whether
    the rows carry Edit links (the user's one say in them) and the templates' own source (a
    deploy that changes a template never serves the old markup). Nothing else in them depends
    on the user, the CSRF token or a message, which is why the whole page is still never
    cached.
    """
    templates = {
        "rows": get_template(ROWS_TEMPLATE),
        "pagination": get_template(PAGINATION_TEMPLATE),
    }
    # Each cache call is a network round trip, about as costly as a small query: a hit makes
    # two (the versions, then the count with the page and its anchor), a miss one more to
    # store the page.
    keys = client_list_keys(spec)
    shape = _digest(
        get_language() or "",
        get_current_timezone_name(),
        list_url,
        str(can_change),
        *(template.template.source for template in templates.values()),
    )
    paginator = ClientListPaginator(
        queryset,
        per_page,
        keys=keys,
        page_key=lambda n: keys.page("html", shape, per_page, n),
        number=number,
    )
    page = paginator.get_page(number)
    entry = paginator.cached_page_entry(page)
    if entry is not None:
        page.object_list = _load(entry["rows"])
        page.html = {name: mark_safe(html) for name, html in entry["html"].items()}
        return paginator, page
    page.object_list = list(page.object_list)
    context = {
        "clients": page.object_list,
        "list_url": list_url,
        "can_change": can_change,
        "page_obj": page,
        "page_range": paginator.get_elided_page_range(page.number),
        "query_prefix": spec.query_string(),
    }
    html = {name: str(template.render(context)) for name, template in templates.items()}
    if page.cache_key is not None:
        cache.set(page.cache_key, {"rows": _dump(page.object_list), "html": html}, TIMEOUT)
    page.html = {name: mark_safe(fragment) for name, fragment in html.items()}
    return paginator, page
