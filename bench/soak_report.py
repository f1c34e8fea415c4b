"""The soak's arithmetic, apart from any process or socket (bench/tests/test_soak.py tests it):
the requests per endpoint and status with their latency percentiles, the restart windows and
the 5xx inside and outside them, the reconciliation of the orders the load created with the
database, what each websocket listener should have received, RSS growth, and the targets.

Times are wall-clock seconds (time.time()): the requests, the windows and the sockets are
stamped by the same process, so they compare directly.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# The targets.
MAX_WINDOW_SECONDS = 5.0
MAX_RSS_GROWTH = 0.20
# Seconds an order's event may take from its create's response to a listener (the send runs
# after commit, before the response; this covers Redis, uvicorn and the proxy on 2 busy cores).
EVENT_GRACE = 5.0
# Processes whose RSS growth is a target. PostgreSQL and Redis are restarted mid-run, so their
# end figure is from a fresh process: shown for information only.
RSS_TARGET_ROLES = ("web master", "web workers", "ws (uvicorn)", "worker", "beat", "nginx")

ERROR = "ERR"  # no HTTP answer: connection refused or reset, or a timeout


@dataclass(frozen=True)
class Sample:
    """One request of the load: which endpoint, its status (or ERROR), when it was sent and
    when its answer was read."""

    endpoint: str
    status: int | str
    start: float
    end: float

    @property
    def is_5xx(self) -> bool:
        return self.status == ERROR or (isinstance(self.status, int) and self.status >= 500)


@dataclass
class Window:
    """A restart: from the moment the soak stops the service to the first ready answer of the
    stack through the proxy after it is back (/health/ready/ checks the database and Redis).
    `back` is when the service itself accepted connections again (for information: the stack
    may need longer, and that is what the window measures)."""

    name: str
    start: float
    end: float | None = None
    back: float | None = None

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else math.inf) - self.start

    def overlaps(self, start: float, end: float) -> bool:
        stop = self.end if self.end is not None else math.inf
        return start <= stop and end >= self.start


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of `values`; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def status_label(status: int | str) -> str:
    return str(status)


@dataclass
class EndpointStats:
    endpoint: str
    count: int
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float
    errors: int  # 5xx and transport errors


def endpoint_stats(samples: list[Sample]) -> list[EndpointStats]:
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_endpoint[sample.endpoint].append(sample)
    rows = []
    for endpoint in sorted(by_endpoint):
        group = by_endpoint[endpoint]
        latencies = [(s.end - s.start) * 1000 for s in group if s.status != ERROR]
        statuses = Counter(status_label(s.status) for s in group)
        rows.append(
            EndpointStats(
                endpoint=endpoint,
                count=len(group),
                statuses=dict(sorted(statuses.items())),
                p50_ms=percentile(latencies, 50),
                p99_ms=percentile(latencies, 99),
                errors=sum(s.is_5xx for s in group),
            )
        )
    return rows


@dataclass
class WindowAccount:
    inside: dict[str, int]  # window name -> 5xx (and transport errors) inside it
    outside: list[Sample]  # 5xx outside every window


def account_windows(samples: list[Sample], windows: list[Window]) -> WindowAccount:
    """A request is inside a window when its [sent, answered] interval overlaps it."""
    inside = {w.name: 0 for w in windows}
    outside = []
    for sample in samples:
        if not sample.is_5xx:
            continue
        hit = next((w for w in windows if w.overlaps(sample.start, sample.end)), None)
        if hit is None:
            outside.append(sample)
        else:
            inside[hit.name] += 1
    return WindowAccount(inside=inside, outside=outside)


# --- Orders ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderAttempt:
    """One order create the load sent: its unique title, through which door, whether it got a
    2xx (a 302 to the client page for the form), and the id the answer gave (None for the form,
    which answers with the client page)."""

    title: str
    via: str
    ok: bool
    start: float
    end: float
    order_id: int | None = None


@dataclass
class OrderReconciliation:
    created: int  # attempts with a 2xx
    lost: list[str]  # a 2xx, and no order with its title
    duplicated: dict[str, int]  # a title found more than once: how many times
    wrong_id: list[str]  # the answer's id is not the stored order's
    committed_after_error: list[str]  # no 2xx, yet the order exists (the client saw a failure)
    unknown: list[int]  # orders created during the load that no attempt made (ids)
    ids: dict[str, int] = field(default_factory=dict)  # title -> stored id

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.wrong_id or self.unknown)


def reconcile_orders(
    attempts: list[OrderAttempt], stored: list[tuple[int, str]]
) -> OrderReconciliation:
    """`stored`: (id, title) of every order created since the load began (ids above the
    largest before it), whatever its title."""
    by_title: dict[str, list[int]] = defaultdict(list)
    for order_id, title in stored:
        by_title[title].append(order_id)
    attempted = {a.title: a for a in attempts}
    lost, wrong_id, after_error = [], [], []
    for attempt in attempts:
        found = by_title.get(attempt.title, [])
        if attempt.ok and not found:
            lost.append(attempt.title)
        elif attempt.ok and attempt.order_id is not None and found != [attempt.order_id]:
            if len(found) == 1:
                wrong_id.append(attempt.title)
        elif not attempt.ok and found:
            after_error.append(attempt.title)
    duplicated = {title: len(ids) for title, ids in by_title.items() if len(ids) > 1}
    unknown = sorted(i for title, ids in by_title.items() if title not in attempted for i in ids)
    return OrderReconciliation(
        created=sum(a.ok for a in attempts),
        lost=lost,
        duplicated=duplicated,
        wrong_id=wrong_id,
        committed_after_error=after_error,
        unknown=unknown,
        ids={title: ids[0] for title, ids in by_title.items() if len(ids) == 1},
    )


# --- Websocket listeners ---------------------------------------------------------------------
@dataclass
class Listener:
    """One websocket: each connection's [opened, closed] (closed None while still open at the
    end, then the end of the run counts), and the order titles its events named."""

    name: str
    intervals: list[tuple[float, float | None]] = field(default_factory=list)
    received: set[str] = field(default_factory=set)
    ends: dict[str, int] = field(default_factory=dict)  # how connections ended: "closed 1011"…


@dataclass
class ListenerCheck:
    name: str
    connections: int
    expected: int  # orders created (2xx) while this socket was connected
    received: int  # of those, how many it got
    missing: list[str]
    excluded_window: int  # created while connected, but overlapping a restart window
    not_connected: int  # created while it was not connected (before, between, after)
    ends: dict[str, int] = field(default_factory=dict)


def check_listener(
    listener: Listener,
    attempts: list[OrderAttempt],
    windows: list[Window],
    *,
    run_end: float,
    grace: float = EVENT_GRACE,
) -> ListenerCheck:
    """An order was created while the socket was connected when one connection opened before
    its create was sent and closed no earlier than `grace` seconds after the answer came (the
    commit and the send after it fall within the request). Such an order must have reached the
    socket, unless its request, grace included, overlaps a restart window: an event sent while
    Redis is down is dropped by design (live/broadcast.py, sends are best effort), and the
    socket may have dropped within the window. Those are counted apart."""
    expected = missing = excluded = not_connected = 0
    missing_titles = []
    for attempt in attempts:
        if not attempt.ok:
            continue
        connected = any(
            opened <= attempt.start and attempt.end + grace <= (closed or run_end)
            for opened, closed in listener.intervals
        )
        if not connected:
            not_connected += 1
            continue
        if any(w.overlaps(attempt.start, attempt.end + grace) for w in windows):
            excluded += 1
            continue
        expected += 1
        if attempt.title not in listener.received:
            missing += 1
            missing_titles.append(attempt.title)
    return ListenerCheck(
        name=listener.name,
        connections=len(listener.intervals),
        expected=expected,
        received=expected - missing,
        missing=missing_titles,
        excluded_window=excluded,
        not_connected=not_connected,
        ends=dict(sorted(listener.ends.items())),
    )


# --- RSS -------------------------------------------------------------------------------------
@dataclass
class RssRow:
    role: str
    start_kb: int
    end_kb: int
    processes: str  # e.g. "2 → 2 (5 pids seen)"
    target: bool

    @property
    def growth(self) -> float:
        return (self.end_kb - self.start_kb) / self.start_kb if self.start_kb else math.nan

    @property
    def ok(self) -> bool:
        return not self.target or not self.start_kb or self.growth <= MAX_RSS_GROWTH


def rss_rows(
    start: dict[str, int],
    end: dict[str, int],
    counts: dict[str, tuple[int, int, int]] | None = None,
) -> list[RssRow]:
    """counts: role -> (processes at start, at end, distinct pids seen over the run)."""
    rows = []
    # The stack's processes first, in a fixed order, then the services.
    rank = {role: i for i, role in enumerate([*RSS_TARGET_ROLES, "postgres", "redis"])}
    for role in sorted({*start, *end}, key=lambda r: (rank.get(r, len(rank)), r)):
        n = (counts or {}).get(role)
        processes = ""
        if n:
            processes = f"{n[0]} → {n[1]}" + (f" ({n[2]} pids seen)" if n[2] > max(n[:2]) else "")
        rows.append(
            RssRow(
                role=role,
                start_kb=start.get(role, 0),
                end_kb=end.get(role, 0),
                processes=processes,
                target=role in RSS_TARGET_ROLES,
            )
        )
    return rows


# --- The printed report ----------------------------------------------------------------------
def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (the README's format), columns padded for the terminal."""
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    lines += [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return "\n".join(lines)


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def requests_table(stats: list[EndpointStats]) -> str:
    rows = [
        [
            s.endpoint,
            f"{s.count:,}",
            ", ".join(f"{k}: {v:,}" for k, v in s.statuses.items()),
            f"{s.errors:,}",
            _ms(s.p50_ms),
            _ms(s.p99_ms),
        ]
        for s in stats
    ]
    total = sum(s.count for s in stats)
    errors = sum(s.errors for s in stats)
    rows.append(["**all**", f"{total:,}", "", f"{errors:,}", "", ""])
    return table(["endpoint", "requests", "statuses", "5xx/err", "p50 ms", "p99 ms"], rows)


def windows_table(windows: list[Window], account: WindowAccount, origin: float) -> str:
    rows = [
        [
            w.name,
            f"+{w.start - origin:.1f}s",
            f"+{w.end - origin:.1f}s" if w.end is not None else "never",
            f"{w.back - w.start:.2f}" if w.back is not None else "never",
            f"{w.seconds:.2f}",
            str(account.inside.get(w.name, 0)),
        ]
        for w in windows
    ]
    headers = ["restart", "start", "end", "service down s", "window s", "5xx/err inside"]
    return table(headers, rows)


def rss_table(rows: list[RssRow]) -> str:
    return table(
        ["process", "RSS start MB", "RSS end MB", "growth", "processes", "target ≤ 20%"],
        [
            [
                r.role,
                f"{r.start_kb / 1024:.1f}",
                f"{r.end_kb / 1024:.1f}",
                "n/a" if math.isnan(r.growth) else f"{r.growth:+.1%}",
                r.processes,
                ("PASS" if r.ok else "FAIL") if r.target else "info (restarted)",
            ]
            for r in rows
        ],
    )


def listeners_table(checks: list[ListenerCheck]) -> str:
    return table(
        [
            "listener",
            "connections",
            "expected",
            "received",
            "missing",
            "excl. window",
            "not conn.",
            "how they ended",
        ],
        [
            [
                c.name,
                str(c.connections),
                str(c.expected),
                str(c.received),
                str(len(c.missing)),
                str(c.excluded_window),
                str(c.not_connected),
                ", ".join(f"{k} ×{v}" for k, v in c.ends.items()),
            ]
            for c in checks
        ],
    )


@dataclass
class Target:
    name: str
    ok: bool
    detail: str


def targets(
    *,
    orders: OrderReconciliation,
    totals_drift: int,
    account: WindowAccount,
    windows: list[Window],
    rss: list[RssRow],
    listeners: list[ListenerCheck],
) -> list[Target]:
    longest = max((w.seconds for w in windows), default=0.0)
    grown = [r for r in rss if not r.ok]
    missing = sum(len(c.missing) for c in listeners)
    return [
        Target(
            "0 lost or duplicated orders",
            orders.ok,
            f"{orders.created:,} created, {len(orders.lost)} lost, {len(orders.duplicated)} "
            f"duplicated, {len(orders.wrong_id)} wrong id, {len(orders.unknown)} unknown",
        ),
        Target(
            "stored totals = a fresh aggregate",
            totals_drift == 0,
            f"{totals_drift} client(s) drifted",
        ),
        Target(
            "0 5xx outside a restart window",
            not account.outside,
            f"{len(account.outside)} outside, {sum(account.inside.values())} inside",
        ),
        Target(
            f"each window ≤ {MAX_WINDOW_SECONDS:g} s",
            bool(windows) and longest <= MAX_WINDOW_SECONDS,
            f"longest {longest:.2f} s" if windows else "no restart happened",
        ),
        Target(
            "RSS growth ≤ 20% after warm-up",
            not grown,
            ", ".join(f"{r.role} {r.growth:+.0%}" for r in grown) or "every process within",
        ),
        Target(
            "every listener got every order created while connected",
            missing == 0 and bool(listeners),
            f"{missing} missing over {len(listeners)} listeners",
        ),
    ]


def targets_table(items: list[Target]) -> str:
    return table(
        ["target", "result", "figures"],
        [[t.name, "PASS" if t.ok else "FAIL", t.detail] for t in items],
    )
