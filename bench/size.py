"""One size of the bench: its database set up, then each endpoint measured in rounds on a
fresh server, the dashboard timed one request at a time, the CSV export, and last the orders
created through the API. An endpoint whose first request does not answer 200 (201 for the
orders) is reported as "n/a (<status>)", a list variant whose parameter is ignored as
"n/a (ignored)"; neither is measured."""

import os
import secrets
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import OUT_DIR, database, write
from bench.endpoints import ENDPOINTS, RANDOM, WRITE_KEY, deep_page, ignored, sized_path
from bench.load import Load, median_load
from bench.measure import EXPORT_PATH, Export, measure_export, measure_round
from bench.server import Server, get, server_env
from bench.timing import TIMED, ServerTime, time_page


@dataclass
class SizeResult:
    clients: int
    orders: int
    deep_page: int
    load_average: float = 0.0  # the machine's, when this size was measured
    seed: dict = field(default_factory=dict)
    probe: dict = field(default_factory=dict)
    loads: dict[str, Load | str] = field(default_factory=dict)  # str: why it is n/a
    export: Export | str | None = None
    # The dashboard's pages timed one request at a time (bench.timing); str: why n/a.
    timed: dict[str, ServerTime | str] = field(default_factory=dict)

    def load(self, key: str) -> Load | None:
        value = self.loads.get(key)
        return value if isinstance(value, Load) else None

    def why(self, key: str) -> str:
        """Why the endpoint has no figures: "n/a (404)", or "n/a" when never probed."""
        value = self.loads.get(key)
        return value if isinstance(value, str) else "n/a"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_size(args, *, clients: int, orders: int, database_url: str, label: str) -> SizeResult:
    secret, token = secrets.token_urlsafe(50), secrets.token_urlsafe(24)
    env = server_env(
        database_url=database_url, redis_url=args.redis_url, secret=secret, token=token
    )
    deep = deep_page(clients)  # the middle page: 5,000 at 100,000 clients
    result = SizeResult(clients=clients, orders=orders, deep_page=deep)
    say(f"[{label}] database {urlsplit(database_url).path.lstrip('/')}: migrate")
    database.create_if_missing(database_url)
    database.manage(env, "migrate", "--noinput", "-v0")
    if args.seed:
        say(f"[{label}] seed {clients:,} clients and {orders:,} orders (COPY)")
        result.seed = {"summary": database.seed(env, clients=clients, orders=orders)}
        say(result.seed["summary"])
    say(f"[{label}] in-process figures (session, COUNT(*), the spec's literal query)")
    explain = OUT_DIR / f"explain-{clients}.txt"
    result.probe = database.probe(env, deep_page=deep, explain=explain, literal=args.literal)
    database.flush_redis(args.redis_url)
    result.load_average = os.getloadavg()[0]

    headers = {
        "Cookie": result.probe["session_cookie"],
        "X-Forwarded-Proto": "https",
        "X-Bench-Token": token,
    }
    say(f"[{label}] gunicorn, {args.workers} sync workers; {args.tool} {args.load_desc}")
    server = Server(env, workers=args.workers, log=OUT_DIR / f"gunicorn-{clients}.log")
    try:
        _measure_endpoints(args, server, env, database_url, headers, result)
        _time_pages(args, server, headers, result)
        status, _ = get(server.base, EXPORT_PATH + "?q=no-such-client-zzz", headers)
        if status != 200:
            result.export = f"n/a ({status})"
            say(f"  {EXPORT_PATH}: {status}, skipped")
        else:
            result.export = measure_export(server, headers)
            say(
                f"  {EXPORT_PATH}: {result.export.rows:,} rows, "
                f"{result.export.rows_per_s:,.0f} rows/s, peak RSS "
                f"+{result.export.peak_growth_mb:.1f} MB"
            )
        _measure_write(args, server, database_url, headers, result)
    finally:
        server.stop()
    return result


def _measure_endpoints(args, server: Server, env, database_url: str, headers, result) -> None:
    measured: dict[str, tuple[str, dict]] = {}
    bodies: dict[str, bytes] = {}  # each probe's page, for the variants to be compared with
    for endpoint in ENDPOINTS:
        path, probe_path = sized_path(endpoint, clients=result.clients, orders=result.orders)
        sent = {**headers, "Accept": "application/json"} if endpoint.json else headers
        status, body = get(server.base, probe_path, sent)
        bodies[endpoint.key] = body
        reference = bodies.get(endpoint.differs_from) if endpoint.differs_from else None
        if status != 200:
            result.loads[endpoint.key] = f"n/a ({status})"
            say(f"  {path}: {status}, skipped")
        elif ignored(body, reference):
            result.loads[endpoint.key] = "n/a (ignored)"
            say(f"  {path}: the rows of {endpoint.differs_from}: parameter ignored, skipped")
        else:
            measured[endpoint.key] = (path, sent)
    # Rounds go over every endpoint in turn, so a minute when the shared machine is busy
    # slows each endpoint a little instead of one endpoint a lot: the ratios stay fair.
    rounds: dict[str, list[Load]] = {key: [] for key in measured}
    for _ in range(args.rounds):
        for key, (path, sent) in measured.items():
            if RANDOM in path:
                database.retire_cached_pages(env)
            rounds[key].append(measure_round(args, server, database_url, server.base + path, sent))
    for key, (path, _) in measured.items():
        _record(result, key, path, median_load(rounds[key]))


def _record(result: SizeResult, key: str, path: str, load: Load) -> None:
    result.loads[key] = load
    say(
        f"  {path}: {load.rps:,.0f} req/s, avg {load.avg_ms:.1f} ms, CPU "
        f"{load.app_cpu_ms:.2f} + {load.db_cpu_ms:.2f} ms/request, bad {load.bad}"
    )


def _time_pages(args, server: Server, headers, result: SizeResult) -> None:
    """The dashboard's pages one request at a time, uncached then cached (bench.timing). It
    empties the cache: it runs after the wrk rounds."""
    for key, path, as_json in TIMED:
        sent = {**headers, "Accept": "application/json"} if as_json else headers
        timed = result.timed[key] = time_page(
            server.base, path, sent, redis_url=args.redis_url,
            uncached=args.timed_uncached, cached=args.timed_cached,
        )  # fmt: skip
        if isinstance(timed, str):
            say(f"  {path} one at a time: {timed}")
        else:
            uncached = f"{timed.uncached:.1f} ms" if timed.uncached is not None else timed.note
            say(f"  {path} one at a time: uncached {uncached}, cached {timed.cached:.1f} ms")


def _measure_write(args, server: Server, database_url: str, headers, result) -> None:
    """Orders created through the API (bench.write), then deleted again."""
    token = result.probe.get("api_token")
    if not token:
        result.loads[WRITE_KEY] = "n/a (no API token)"
        return
    sent = write.headers(headers, token)
    last = write.last_order_id(database_url)
    try:
        status = write.probe(server.base, sent)
        if status != 201:
            result.loads[WRITE_KEY] = f"n/a ({status})"
            say(f"  POST {write.WRITE_PATH}: {status}, skipped")
            return
        plan = write.plan(result.clients)
        url = server.base + write.WRITE_PATH
        rounds = [
            measure_round(args, server, database_url, url, sent, plan) for _ in range(args.rounds)
        ]
        _record(result, WRITE_KEY, f"POST {write.WRITE_PATH}", median_load(rounds))
    finally:
        deleted = write.delete_orders_after(database_url, last)
        say(f"  deleted the {deleted:,} orders the bench created")
