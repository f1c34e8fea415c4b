"""Benchmark: the monthly order report for 1,000,000 orders on PostgreSQL.

    make bench-report                     # or: .venv/bin/python bench/report.py [--orders N]

Creates (or reuses) its own database, mini_crm_bench_report, migrates it, seeds one month of
orders with COPY, then measures in fresh child processes, so each peak is its own:

- build: stream the month's orders into a CSV file (what the report does before mailing);
- send:  the whole report, CSV + zip + message rendered by the locmem mail backend.

Peak memory is the child's peak RSS (getrusage), shown beside its RSS once Django is loaded.
Nothing here is a test; it prints a table. BENCH_PG_URL points at the server (default
postgres://postgres@127.0.0.1:5432).
"""

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "mini_crm_bench_report"
MONTH = "2026-10"


def server_url() -> str:
    return os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")


def django_env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{server_url()}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "mini_crm.settings",
        "DJANGO_DEBUG": "1",
        "DJANGO_DEBUG_TOOLBAR": "0",
        "TIME_ZONE": "Europe/Berlin",
        "REDIS_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "REPORT_RECIPIENTS": "bench@mail.test",
        "LOG_LEVEL": "WARNING",
    }


def setup_django() -> None:
    os.environ.update(django_env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- Seeding (parent process) -----------------------------------------------------------------


def create_database(*, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(f"{server_url()}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(*, orders: int, clients: int) -> float:
    """Migrate, then COPY `clients` clients and `orders` orders spread over the month."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=django_env(), check=True,
    )  # fmt: skip
    import psycopg

    rng = random.Random(18)
    started = time.perf_counter()
    with psycopg.connect(f"{server_url()}/{DB_NAME}") as conn:
        (existing,) = conn.execute("SELECT count(*) FROM clients_order").fetchone()
        if existing == orders:
            print(f"reusing {existing:,} seeded orders (--fresh to reseed)")
            return 0.0
        conn.execute("TRUNCATE clients_order, clients_client RESTART IDENTITY CASCADE")
        with conn.cursor().copy(
            "COPY clients_client (name, email, phone, avatar, vip, created_at) FROM STDIN"
        ) as copy:
            for n in range(clients):
                copy.write(
                    f"Client {n}\tclient{n}@bench.test\t+49 30 {n:07d}\t\tf\t2026-01-01 00:00+00\n"
                )
        statuses = ("NEW", "IN_PROGRESS", "DONE")
        # Berlin's October 2026 is [2026-09-30 22:00 UTC, 2026-10-31 23:00 UTC): 2,682,000 s.
        start, span = 1790805600, 2_682_000
        with conn.cursor().copy(
            "COPY clients_order (client_id, title, amount, status, created_at) FROM STDIN"
        ) as copy:
            buffer = io.StringIO()
            for n in range(orders):
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start + n * span // orders))
                buffer.write(
                    f"{rng.randint(1, clients)}\tOrder {n} for services\t"
                    f"{rng.randint(100, 999_999) / 100:.2f}\t{statuses[n % 3]}\t"
                    f"{stamp}+00\n"
                )
                if n % 50_000 == 49_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE clients_client, clients_order")
    return time.perf_counter() - started


# --- Measuring (child processes) --------------------------------------------------------------


def measure(kind: str) -> dict:
    setup_django()
    from reports.models import ReportRun
    from reports.services import monthly_report_send, monthly_report_write_csv, parse_month

    month = parse_month(MONTH)
    baseline = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    if kind == "build":
        with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as out:
            summary = monthly_report_write_csv(month=month, out=out)
            size = out.tell()
        rows = summary.row_count
    else:
        ReportRun.objects.filter(month=month).delete()
        from django.core import mail

        outcome = monthly_report_send(month=month, force=True)
        rows = outcome.row_count
        [(_, content, _)] = mail.outbox[0].attachments
        size = len(content)
    return {
        "kind": kind,
        "rows": rows,
        "seconds": time.perf_counter() - started,
        # CPU time of this process (the database's work is not in it): on a shared machine
        # the wall time above also counts waiting for a core.
        "cpu_seconds": time.process_time() - cpu_started,
        "baseline_mb": baseline,
        "peak_mb": rss_mb(),
        "bytes": size,
    }


def run_child(kind: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", kind],
        cwd=ROOT, env=django_env(), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--fresh", action="store_true", help="drop and reseed the database")
    parser.add_argument("--measure", choices=["build", "send"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return

    create_database(fresh=args.fresh)
    seconds = seed(orders=args.orders, clients=args.clients)
    if seconds:
        print(f"seeded {args.orders:,} orders with COPY in {seconds:.1f} s")
    results = [run_child("build"), run_child("send")]
    print()
    print(f"Monthly report for {MONTH}, PostgreSQL, {results[0]['rows']:,} orders")
    print(f"{'step':<36}{'time':>9}{'CPU':>8}{'peak RSS':>11}{'after setup':>13}{'output':>11}")
    labels = {
        "build": "build CSV (streamed to a file)",
        "send": "send (CSV + zip + locmem mail)",
    }
    for r in results:
        print(
            f"{labels[r['kind']]:<36}{r['seconds']:>8.1f}s{r['cpu_seconds']:>7.1f}s"
            f"{r['peak_mb']:>8.0f} MB"
            f"{r['baseline_mb']:>10.0f} MB{r['bytes'] / 1e6:>8.1f} MB"
        )


if __name__ == "__main__":
    main()
