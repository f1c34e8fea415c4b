"""`make bench`: seed two PostgreSQL databases (small and big), serve each with the production
web server, measure the pages with wrk, print one table with the targets they are judged by.

    .venv/bin/python -m bench.run [--clients 100000 --orders 1000000] [--quick] [--strict]

Both sizes run in one invocation with the same server settings (gunicorn, 2 sync workers,
DJANGO_DEBUG=0, persistent connections, Redis cache when --redis-url is set), so the ratios
between rows are comparable even on a noisy machine. See bench/README.md for what each figure
means.
"""

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import OUT_DIR
from bench.database import manage
from bench.load import run_python_load, run_wrk
from bench.measure import Export
from bench.server import server_env
from bench.size import SizeResult, run_size, say
from bench.table import render
from bench.targets import evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--small-clients", type=int, default=1_000)
    parser.add_argument("--small-orders", type=int, default=10_000)
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke run: 1,000/10,000 against 100/1,000, 2 s per endpoint",
    )  # fmt: skip
    default_db = "postgres://postgres@127.0.0.1:5432/mini_crm_bench"
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", default_db))
    parser.add_argument(
        "--small-db-url",
        default=os.environ.get("BENCH_SMALL_DATABASE_URL", default_db + "_small"),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="the server's cache (FLUSHED before each size); empty: local memory",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--duration", type=float, default=5, help="seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=1, help="seconds before each measure")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measures per endpoint; the median is kept"
    )
    parser.add_argument(
        "--timed", type=int, nargs=2, default=[15, 100], metavar=("UNCACHED", "CACHED"),
        help="dashboard requests timed one at a time, uncached and cached",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", type=Path,
        help="an earlier run's JSON (e.g. before issue 14): the order-creation target's 100%%",
    )  # fmt: skip
    parser.add_argument("--no-seed", dest="seed", action="store_false", help="reuse the data")
    parser.add_argument("--no-literal", dest="literal", action="store_false")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "latest.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.quick:
        args.clients, args.orders, args.small_clients, args.small_orders = 1000, 10_000, 100, 1000
        args.duration, args.rounds = min(args.duration, 2), 1
        args.timed = [min(args.timed[0], 5), min(args.timed[1], 30)]
    args.timed_uncached, args.timed_cached = args.timed
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    use_wrk = shutil.which("wrk") and not args.python_load
    generator = run_wrk if use_wrk else run_python_load
    args.tool = "wrk" if use_wrk else "Python load generator (wrk not found)"
    args.load_desc = f"-t{args.threads} -c{args.connections} -d{args.duration:g}s"

    def load(url, headers, *, seconds, plan=None):
        return generator(
            url, headers, threads=args.threads, connections=args.connections, seconds=seconds,
            plan=plan,
        )  # fmt: skip

    args.load = load

    say("collectstatic (the production static storage needs its manifest)")
    static_env = server_env(
        database_url=args.small_db_url, redis_url="", secret="x" * 50, token="x"
    )
    manage(static_env, "collectstatic", "--noinput", "-v0")
    small = run_size(
        args, clients=args.small_clients, orders=args.small_orders,
        database_url=args.small_db_url, label="small",
    )  # fmt: skip
    big = run_size(
        args, clients=args.clients, orders=args.orders, database_url=args.db_url, label="big"
    )
    targets = evaluate(small, big, baseline=baseline)
    header = (
        f"Mini CRM bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: gunicorn {args.workers} sync "
        f"workers, DJANGO_DEBUG=0, CONN_MAX_AGE=600, cache "
        f"{'Redis' if args.redis_url else 'local memory'}; {args.tool} {args.load_desc}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the run took "
        f"{(time.monotonic() - started) / 60:.1f} min"
    )
    table = render(small, big, targets, header=header)
    print(table)
    args.json.write_text(
        json.dumps(
            {
                "table": table,
                "targets": [t.__dict__ for t in targets],
                "sizes": [_jsonable(small), _jsonable(big)],
            },
            indent=2,
        )
    )
    say(f"\nsaved {args.json} and the EXPLAIN ANALYZE plans in {OUT_DIR}")
    failed = [t for t in targets if t.status == "FAIL"]
    return 1 if failed and args.strict else 0


def _jsonable(result: SizeResult) -> dict:
    data = asdict(result)
    data["probe"].pop("session_cookie", None)  # a live login: not for a file
    data["probe"].pop("api_token", None)  # the writer's API token: the same
    if isinstance(result.export, Export):
        data["export"]["rows_per_s"] = result.export.rows_per_s
    for key, timed in result.timed.items():
        if not isinstance(timed, str):
            data["timed"][key].update(uncached=timed.uncached, cached=timed.cached)
    return data


if __name__ == "__main__":
    sys.exit(main())
