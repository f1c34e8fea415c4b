"""One size of the bench: its database set up, then each endpoint measured in rounds on a
fresh server, then the CSV export. An endpoint whose first request does not answer 200 is
reported as "n/a (<status>)", not measured."""

import os
import secrets
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import OUT_DIR, database
from bench.load import RANDOM, Load, median_load
from bench.measure import EXPORT_PATH, Export, measure_export, measure_round
from bench.server import Server, get, server_env

SEARCH_TERM = "berg"  # Berg, and Lindqvist's neighbours: a few percent of the clients

# (key, label, path): what wrk measures on each size. {deep} is the middle page.
ENDPOINTS = [
    ("bare", "bare view (ceiling, no login)", "/bench/bare/"),
    ("bare_login", "bare view, logged in", "/bench/bare-login/"),
    ("page1", "list page 1", "/clients/"),
    # Every request a random page of the whole list: the cached rows almost never hit, so this
    # is the list's uncached cost (only the versioned COUNT(*) stays cached, as designed).
    ("cold", "list, random page (uncached)", "/clients/?page={random}"),
    ("deep", "list deep page", "/clients/?page={deep}"),
    ("search", f"list search ?q={SEARCH_TERM}", f"/clients/?q={SEARCH_TERM}"),
    ("api", "API list /api/clients/", "/api/clients/"),
]


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
    deep = max(1, clients // 10 // 2)  # the middle page: 5,000 at 100,000 clients
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
    finally:
        server.stop()
    return result


def _measure_endpoints(args, server: Server, env, database_url: str, headers, result) -> None:
    measured: dict[str, tuple[str, dict]] = {}
    for key, _, path in ENDPOINTS:
        if RANDOM in path:
            pages = max(1, -(-result.clients // 10))
            probe_path, path = path.replace(RANDOM, "1"), f"{path}&pages={pages}"
        else:
            path = probe_path = path.format(deep=result.deep_page)
        # As an integrator asks: JSON, never the browsable API's HTML.
        sent = {**headers, "Accept": "application/json"} if key == "api" else headers
        status, _ = get(server.base, probe_path, sent)
        if status != 200:
            result.loads[key] = f"n/a ({status})"
            say(f"  {path}: {status}, skipped")
        else:
            measured[key] = (path, sent)
    # Rounds go over every endpoint in turn, so a minute when the shared machine is busy
    # slows each endpoint a little instead of one endpoint a lot: the ratios stay fair.
    rounds: dict[str, list[Load]] = {key: [] for key in measured}
    for _ in range(args.rounds):
        for key, (path, sent) in measured.items():
            if RANDOM in path:
                database.retire_cached_pages(env)
            rounds[key].append(measure_round(args, server, database_url, server.base + path, sent))
    for key, (path, _) in measured.items():
        load = result.loads[key] = median_load(rounds[key])
        say(
            f"  {path}: {load.rps:,.0f} req/s, avg {load.avg_ms:.1f} ms, CPU "
            f"{load.app_cpu_ms:.2f} + {load.db_cpu_ms:.2f} ms/request, bad {load.bad}"
        )
