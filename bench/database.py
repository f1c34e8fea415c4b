"""A size's data, set up in child processes with the server's environment: the database
created if missing, migrated, seeded (bench.seed) and probed in process (bench.probe); the
cache emptied before the size and the list's cached pages retired between rounds."""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench import ROOT


def python(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, check=True, text=True, **kwargs
    )


def manage(env: dict[str, str], *args: str) -> None:
    python(env, "manage.py", *args)


def create_if_missing(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(env: dict[str, str], *, clients: int, orders: int) -> str:
    """Replace the clients and orders (COPY); the seed's summary line."""
    seeded = python(
        env, "-m", "bench.seed", f"--clients={clients}", f"--orders={orders}",
        stderr=subprocess.PIPE,
    )  # fmt: skip
    return seeded.stderr.strip()


def probe(env: dict[str, str], *, deep_page: int, explain: Path, literal: bool) -> dict:
    """bench.probe's in-process figures, and the bench login's session cookie."""
    flags = [f"--deep-page={deep_page}", f"--explain={explain}"]
    flags += [] if literal else ["--no-literal"]
    return json.loads(python(env, "-m", "bench.probe", *flags, capture_output=True).stdout)


def flush_redis(redis_url: str) -> None:
    """Start each size with an empty cache: the seed bypassed the events that version it."""
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()


def retire_cached_pages(env: dict[str, str]) -> None:
    """Retire every cached page of the client list, as a new order does (the count and the
    anchors stay): the uncached row's pages live 60 s, so without this a round would be served
    the pages the previous round cached."""
    python(
        env, "-c", "import django; django.setup(); "
        "from clients.cache import bump_client_list_version; "
        "bump_client_list_version(orders_only=True)",
    )  # fmt: skip
