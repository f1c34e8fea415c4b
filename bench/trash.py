"""Benchmark: deleting (trashing), restoring and purging a client with 100,000 orders on
PostgreSQL (issue 17, "bulk writes": the trash and the purge each ≤ 5 s).

    .venv/bin/python -m bench.trash                              # 100,000 orders
    .venv/bin/python -m bench.trash --orders 20000 --before a6bc11a

A fresh database `bench_trash_<random>` is created on the server of --db-url (default the
local PostgreSQL) for the run and dropped after it. Each code runs in a child process with
DJANGO_DEBUG=0 and Redis when --redis-url is given (the cache bump and the broadcast then cost
a round trip each): this tree's trash, restore and purge; with --before, the old hard delete
(the ORM's cascade, one on-commit callback per order) on the code of that commit, checked out
in a temporary worktree, on a database of its own migrated by that code.

Per step it prints seconds, queries and the on-commit callbacks queued, beside the ceiling.
Nothing here is a test; it exits 1 when the trash or the purge is over its ceiling.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CEILING_SECONDS = 5.0

# Runs in the child, in this tree or in the worktree of --before (so only the ORM and what
# both trees have at the top; the trash functions are imported where they are used).
CHILD = r"""
import json, os, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

call_command("migrate", verbosity=0)
from clients.models import Client

orders = int(os.environ["BENCH_ORDERS"])
mode = os.environ["BENCH_MODE"]

def seed(name):
    client = Client.objects.create(name=name, email=f"{name.lower()}@bench.test")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clients_order (client_id, title, amount, status, created_at) "
            "SELECT %s, 'Order ' || g, (g %% 1000) / 10.0, "
            "(ARRAY['NEW','IN_PROGRESS','DONE'])[1 + g %% 3], now() - g * interval '1 second' "
            "FROM generate_series(1, %s) AS g",
            [client.pk, orders],
        )
    return client.pk

def measure(label, work):
    queued = []
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        with transaction.atomic():
            result = work()
            queued.append(len(connection.run_on_commit))
        seconds = time.perf_counter() - started
    return {"step": label, "seconds": round(seconds, 3), "queries": len(queries),
            "callbacks": queued[0], "result": result}

steps = []
if mode == "before":
    pk = seed("Before")
    hard_delete = lambda: Client.objects.get(pk=pk).delete()[0]  # noqa: E731
    steps.append(measure("hard delete (the ORM's cascade)", hard_delete))
else:
    from clients.services import client_restore, client_trash, trash_purge
    pk = seed("Trash")
    steps.append(measure("trash", lambda: client_trash(client_id=pk).orders_count))
    steps.append(measure("restore", lambda: client_restore(client_id=pk).orders))
    client_trash(client_id=pk)
    steps.append(measure("purge", lambda: trash_purge()))
    left = Client.objects.filter(pk=pk).count()
    assert left == 0, left
print(json.dumps(steps))
"""


def _run_child(*, code_dir: Path, database_url: str, redis_url: str, orders: int, mode: str):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "mini_crm.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BENCH_ORDERS": str(orders),
        "BENCH_MODE": mode,
        "LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=code_dir, env=env, check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


class _Database:
    """A fresh database on the server of `server_url`, dropped on exit."""

    def __init__(self, server_url: str):
        self.maintenance = urlsplit(server_url)._replace(path="/postgres").geturl()
        self.name = f"bench_trash_{secrets.token_hex(4)}"
        self.url = urlsplit(server_url)._replace(path=f"/{self.name}").geturl()

    def __enter__(self) -> str:
        import psycopg

        with psycopg.connect(self.maintenance, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc) -> None:
        import psycopg

        with psycopg.connect(self.maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _worktree(ref: str, path: Path) -> None:
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(path), ref], cwd=ROOT, check=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--db-url", default=os.environ.get("BENCH_TRASH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )  # fmt: skip
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--before", help="also the hard delete of this commit's code")
    parser.add_argument("--json", action="store_true", help="print JSON, no table")
    args = parser.parse_args(argv)

    steps = []
    if args.before:
        with tempfile.TemporaryDirectory(prefix="bench-trash-") as tmp:
            tree = Path(tmp) / "before"
            _worktree(args.before, tree)
            try:
                with _Database(args.db_url) as url:
                    steps += _run_child(
                        code_dir=tree, database_url=url, redis_url=args.redis_url,
                        orders=args.orders, mode="before",
                    )  # fmt: skip
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
                )
    with _Database(args.db_url) as url:
        steps += _run_child(
            code_dir=ROOT, database_url=url, redis_url=args.redis_url, orders=args.orders,
            mode="now",
        )  # fmt: skip

    failed = [
        s for s in steps if s["step"] in ("trash", "purge") and s["seconds"] > CEILING_SECONDS
    ]
    if args.json:
        print(json.dumps({"orders": args.orders, "steps": steps, "failed": len(failed)}))
    else:
        print(f"\nA client with {args.orders:,} orders on PostgreSQL"
              f"{' with Redis' if args.redis_url else ''} (ceiling {CEILING_SECONDS:.0f} s for "
              "the trash and the purge)\n")  # fmt: skip
        print(f"{'step':<34} {'seconds':>8} {'queries':>8} {'callbacks':>10}  verdict")
        for step in steps:
            gated = step["step"] in ("trash", "purge")
            verdict = ("PASS" if step["seconds"] <= CEILING_SECONDS else "FAIL") if gated else "-"
            print(
                f"{step['step']:<34} {step['seconds']:>8.2f} {step['queries']:>8} "
                f"{step['callbacks']:>10}  {verdict}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
