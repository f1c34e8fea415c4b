"""What wrk measures on each size: the endpoints, their URLs for one size, and whether a list
variant is really served or its parameter ignored.

A variant the code does not know yet (`?sort=`, `?vip=` before issue 14) still answers 200 with
the default list, which would be measured as if it were the variant; comparing its rows with
the page it must differ from tells the two apart, and it is reported "n/a (ignored)".
"""

import re
from dataclasses import dataclass

SEARCH_TERM = "berg"  # Berg, and Lindqvist's neighbours: a few percent of the clients
DEEP = "{deep}"  # the client list's middle page: 5,000 at 100,000 clients, 50 at 1,000
ORDERS_DEEP = "{orders_deep}"  # the orders list's middle page: 20,000 at 1,000,000 orders
RANDOM = "{random}"  # a random page of the client list per request (bench.load)
# Sent literally at both sizes, as the issue asks: the list clamps a page past the end to the
# last one (page 100 at 1,000 clients), so the small size's figure is its last page.
LITERAL_DEEP = 5000
ORDERS_PER_PAGE = 25


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    json: bool = False  # sent with Accept: application/json, as an integrator asks
    # The key of an endpoint whose rows this one's must differ from (bench.endpoints doc).
    differs_from: str | None = None


def _variant(key: str, query: str) -> list[Endpoint]:
    """A list variant on page 1 and on page=5000, each checked against the default list."""
    return [
        Endpoint(f"{key}1", f"list ?{query}", f"/clients/?{query}", differs_from="page1"),
        Endpoint(
            f"{key}5000",
            f"list ?{query}&page=5000 *",
            f"/clients/?{query}&page={LITERAL_DEEP}",
            differs_from="page5000",
        ),
    ]


ENDPOINTS = [
    Endpoint("bare", "bare view (ceiling, no login)", "/bench/bare/"),
    Endpoint("bare_login", "bare view, logged in", "/bench/bare-login/"),
    Endpoint("page1", "list page 1", "/clients/"),
    # Every request a random page of the whole list: the cached rows almost never hit, so this
    # is the list's uncached cost (only the versioned COUNT(*) stays cached, as designed).
    Endpoint("cold", "list, random page (uncached)", f"/clients/?page={RANDOM}"),
    Endpoint("deep", "list deep page (the middle)", f"/clients/?page={DEEP}"),
    Endpoint("search", f"list search ?q={SEARCH_TERM}", f"/clients/?q={SEARCH_TERM}"),
    Endpoint("api", "API list /api/clients/", "/api/clients/", json=True),
    # Issue 14: every list variant on page 1 and page 5,000, against the same at 1,000 clients.
    Endpoint("page5000", "list ?page=5000 *", f"/clients/?page={LITERAL_DEEP}"),
    *_variant("total", "sort=-orders_total"),
    *_variant("name", "sort=name"),
    *_variant("vip", "vip=1"),
    Endpoint(
        "search5000",
        f"list ?q={SEARCH_TERM}&page=5000 *",
        f"/clients/?q={SEARCH_TERM}&page={LITERAL_DEEP}",
    ),
    Endpoint(
        "api_total",
        "API ?ordering=-orders_total",
        "/api/clients/?ordering=-orders_total",
        json=True,
    ),
    Endpoint("dashboard", "dashboard /dashboard/", "/dashboard/"),
    Endpoint("stats", "API stats /api/stats/", "/api/stats/", json=True),
    Endpoint("orders1", "orders /orders/ page 1", "/orders/"),
    Endpoint("orders_deep", "orders deep page (the middle)", f"/orders/?page={ORDERS_DEEP}"),
    Endpoint("board", "orders board /orders/board/", "/orders/board/"),
]
BY_KEY = {endpoint.key: endpoint for endpoint in ENDPOINTS}

# Measured last, after the export: it adds orders (bench.write).
WRITE_KEY, WRITE_LABEL = "write", "create order POST /api/orders/"
LABELS = {**{e.key: e.label for e in ENDPOINTS}, WRITE_KEY: WRITE_LABEL}

# Page times judged against the same request at the small size, beside the list's page 1 and
# middle page (bench.targets): (key, name in the target, the size it is compared at).
PAGE_TIME_TARGETS = [
    ("page5000", "list ?page=5000", "clients"),
    ("total1", "list ?sort=-orders_total", "clients"),
    ("total5000", "list ?sort=-orders_total&page=5000", "clients"),
    ("name1", "list ?sort=name", "clients"),
    ("name5000", "list ?sort=name&page=5000", "clients"),
    ("vip1", "list ?vip=1", "clients"),
    ("vip5000", "list ?vip=1&page=5000", "clients"),
    ("search", f"list ?q={SEARCH_TERM}", "clients"),
    ("search5000", f"list ?q={SEARCH_TERM}&page=5000", "clients"),
    ("board", "orders board", "orders"),
    ("orders1", "orders page 1", "orders"),
    ("orders_deep", "orders deep page", "orders"),
]


def deep_page(clients: int) -> int:
    return max(1, clients // 10 // 2)


def orders_deep_page(orders: int) -> int:
    return max(1, orders // ORDERS_PER_PAGE // 2)


def sized_path(endpoint: Endpoint, *, clients: int, orders: int) -> tuple[str, str]:
    """(the URL path wrk loads, the path of the one probe request before it) for one size."""
    path = endpoint.path.replace(DEEP, str(deep_page(clients)))
    path = path.replace(ORDERS_DEEP, str(orders_deep_page(orders)))
    if RANDOM in path:
        pages = max(1, -(-clients // 10))
        return f"{path}&pages={pages}", path.replace(RANDOM, "1")
    return path, path


_ROW_ID = re.compile(rb'data-client-id="(\d+)"')


def row_ids(body: bytes) -> list[bytes]:
    """The clients a list page shows, in order (its rows carry data-client-id)."""
    return _ROW_ID.findall(body)


def ignored(body: bytes, reference: bytes | None) -> bool:
    """Whether a variant's page shows exactly the rows of the page it must differ from: its
    parameter was ignored. Pages without recognisable rows are given the benefit of doubt."""
    if reference is None:
        return False
    ids = row_ids(body)
    return bool(ids) and ids == row_ids(reference)
