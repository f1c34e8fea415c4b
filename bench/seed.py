"""Seed PostgreSQL with N clients and M orders fast, with COPY, for the benchmark.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mini_crm_bench \
        .venv/bin/python -m bench.seed --clients 100000 --orders 1000000

`bulk_create` needs ~29 s and ~780 MB for 100k clients + 1M orders; COPY streams rows built
one at a time: ~10 s and little memory, on the same machine. Re-running truncates the two
tables first, so a size is always seeded the same way (the data are repeatable: `--seed`).
Signals are bypassed on purpose (no VIP rule, no cache events): `vip` is written directly,
consistent with the VIP rule, and the bench clears its own cache before measuring.
"""

import argparse
import os
import random
import sys
import time
import unicodedata
from datetime import UTC, datetime

FIRST = [
    "Anna", "Ben", "Chloé", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Inès", "Jonas",
    "Kai", "Lena", "Mateo", "Nora", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tomás",
    "Ute", "Vera", "Wen", "Yara", "Zoë", "Łukasz", "Søren", "Ana", "Björn", "Maëlle",
]  # fmt: skip
LAST = [
    "Müller", "Schmidt", "Novak", "Rossi", "García", "Dubois", "Jensen", "Kowalski", "Tanaka",
    "Silva", "Öztürk", "Nilsson", "Fischer", "Moreau", "Costa", "Ivanova", "Horvat", "Berg",
    "Lindqvist", "O'Brien", "Smith", "Nguyen", "Dvořák", "Żak", "Ødegaard", "Brown",
]  # fmt: skip
DOMAINS = ["mail.test", "corp.test", "shop.test", "post.test"]
VIP_DOMAIN = "company.com"  # the VIP rule's default domain: these clients are seeded as VIP
TITLES = [
    "Website redesign", "Annual support", "Onboarding workshop", "Hardware bundle",
    "Consulting day", "License renewal", "Data migration", "Training pack", "Custom report",
    "Cloud hosting",
]  # fmt: skip
# Most orders are finished; about a third are still open (what `active()` looks for).
STATUSES = ["DONE"] * 13 + ["NEW"] * 4 + ["IN_PROGRESS"] * 3
SPAN_SECONDS = 730 * 86400  # created_at spread over two years
BENCH_USERNAME = "bench"
BENCH_PASSWORD = "bench-password-123"  # a throwaway login on a throwaway database
CHUNK = 20_000  # rows per write to COPY
# The client's stored roll-ups of its orders, when the code has them (clients/triggers.py).
# The seed copies the orders with the orders' triggers off, then sets the roll-ups in one
# statement, each as its field name says, and has the dashboard rebuild its own rollups: one
# pass over the orders each, where the triggers would hold a million-row transition table.
ROLLUPS = {
    "orders_count": "COUNT(*)",
    "orders_total": "SUM(amount)",
    "open_orders_count": "COUNT(*) FILTER (WHERE status <> 'DONE')",
}


def ascii_slug(text: str) -> str:
    """`Łukasz O'Brien` -> `lukasz.obrien`: emails stay ASCII while names keep their letters."""
    folded = unicodedata.normalize("NFKD", text.replace("Ł", "L").replace("ł", "l"))
    folded = folded.replace("ø", "o").replace("Ø", "O")
    plain = "".join(c for c in folded if c.isascii() and (c.isalnum() or c == " "))
    return ".".join(plain.lower().split())


def client_rows(count: int, rng: random.Random, now: int):
    """(name, email, phone, vip, created_at epoch) tuples; the i-th email carries i: unique."""
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        vip = i % 50 == 0
        domain = VIP_DOMAIN if vip else rng.choice(DOMAINS)
        phone = f"+49 30 {rng.randint(1000000, 9999999)}" if rng.random() < 0.8 else ""
        created = now - int(SPAN_SECONDS * rng.random())
        yield (
            f"{first} {last}",
            f"{ascii_slug(f'{first} {last}')}.{i}@{domain}",
            phone,
            vip,
            created,
        )


class TimestampText:
    """Epoch seconds -> `YYYY-MM-DD HH:MM:SS+00` from two lookup tables: formatting a datetime
    per row was most of the seeding time for a million orders."""

    def __init__(self):
        self.days: dict[int, str] = {}
        self.clock = [
            f"{h:02}:{m:02}:{s:02}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def __call__(self, epoch: int) -> str:
        day, second = divmod(epoch, 86400)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{text} {self.clock[second]}+00"


def order_lines(count: int, created_by_id: list[int], rng: random.Random, now: int, stamp):
    """Chunks of COPY text lines for `count` orders: random clients (some get none), created
    after their client, amounts 1.00-4,999.99."""
    ids = range(1, len(created_by_id) + 1)  # RESTART IDENTITY: client ids are 1..N
    cents = range(100, 500_000)
    rand = rng.random
    for start in range(0, count, CHUNK):
        k = min(CHUNK, count - start)
        lines = []
        for client_id, title, status, amount in zip(
            rng.choices(ids, k=k),
            rng.choices(TITLES, k=k),
            rng.choices(STATUSES, k=k),
            rng.choices(cents, k=k),
            strict=True,
        ):
            since = created_by_id[client_id - 1]
            created = stamp(since + int((now - since) * rand()))
            lines.append(
                f"{client_id}\t{title}\t{amount // 100}.{amount % 100:02}\t{status}\t{created}\n"
            )
        yield "".join(lines)


def drop_secondary_indexes(cursor, table: str) -> list[str]:
    """Drop `table`'s foreign keys and the indexes that back no constraint; return the SQL that
    recreates them. Building an index once after COPY beats updating it a million times, and a
    foreign key added afterwards is checked in one join instead of one trigger per row."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
        "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in foreign_keys
    ]


def rollup_columns(model) -> dict[str, str]:
    """{column: aggregate} of the ROLLUPS `model` has as fields (none before issue 14)."""
    names = {field.name: field.column for field in model._meta.concrete_fields}
    return {names[name]: sql for name, sql in ROLLUPS.items() if name in names}


def set_rollups(cursor, client_table: str, order_table: str, rollups: dict[str, str]) -> None:
    assignments = ", ".join(f"{column} = t.{column}" for column in rollups)
    aggregates = ", ".join(f"{sql} AS {column}" for column, sql in rollups.items())
    cursor.execute(
        f"UPDATE {client_table} c SET {assignments} FROM (SELECT client_id, {aggregates} "
        f"FROM {order_table} GROUP BY client_id) t WHERE c.id = t.client_id"
    )


def seed(*, clients: int, orders: int, seed: int = 42, out=sys.stderr) -> dict[str, float]:
    """Replace all clients and orders with `clients` clients and `orders` orders; make sure the
    bench login exists. Runs on the default Django database, which must be PostgreSQL."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from clients.models import Client, Order
    from clients.permissions import MANAGERS, role_group

    if connection.vendor != "postgresql":
        raise SystemExit("bench.seed needs PostgreSQL (COPY): set DATABASE_URL.")
    if clients < 0 or orders < 0 or (orders and not clients):
        raise SystemExit("--clients and --orders must not be negative; orders need clients.")
    rng = random.Random(seed)
    now = int(time.time())
    stamp = TimestampText()
    client_table, order_table = Client._meta.db_table, Order._meta.db_table
    rollups = rollup_columns(Client)
    # Copied as zeros (a client without orders keeps them), set from the orders after them.
    rollup_names = "".join(f", {column}" for column in rollups)
    rollup_zeros = "".join("\t0" for _ in rollups)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # CASCADE: whatever other apps hang off clients (none of it is bench data) goes too.
        cursor.execute(f"TRUNCATE {order_table}, {client_table} RESTART IDENTITY CASCADE")
        recreate = drop_secondary_indexes(cursor, order_table)
        recreate += drop_secondary_indexes(cursor, client_table)
        created_by_id: list[int] = []
        with cursor.copy(
            f"COPY {client_table} (name, email, phone, avatar, vip, created_at{rollup_names}) "
            "FROM STDIN"
        ) as copy:
            lines = []
            for name, email, phone, vip, created in client_rows(clients, rng, now):
                created_by_id.append(created)
                lines.append(
                    f"{name}\t{email}\t{phone}\t\t{'t' if vip else 'f'}\t{stamp(created)}"
                    f"{rollup_zeros}\n"
                )
                if len(lines) >= CHUNK:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
        timings["clients_s"] = time.perf_counter() - started

        if rollups:
            cursor.execute(f"ALTER TABLE {order_table} DISABLE TRIGGER USER")
        with cursor.copy(
            f"COPY {order_table} (client_id, title, amount, status, created_at) FROM STDIN"
        ) as copy:
            for chunk in order_lines(orders, created_by_id, rng, now, stamp):
                copy.write(chunk)
        if rollups:
            cursor.execute(f"ALTER TABLE {order_table} ENABLE TRIGGER USER")
            set_rollups(cursor, client_table, order_table, rollups)
            if apps.is_installed("dashboard"):  # its per-month rollups of the orders, too
                cursor.execute("SELECT dashboard_rollups_rebuild()")
        timings["orders_s"] = time.perf_counter() - started - timings["clients_s"]
        index_started = time.perf_counter()
        for statement in recreate:
            cursor.execute(statement)
        timings["indexes_s"] = time.perf_counter() - index_started

    User = get_user_model()
    user, _ = User.objects.get_or_create(username=BENCH_USERNAME)
    user.set_password(BENCH_PASSWORD)
    user.save()
    # A manager, as most of the app's users: every page checks the role's permissions, and the
    # export needs its own (clients/permissions.py).
    user.groups.add(role_group(MANAGERS))

    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        # The roll-ups' UPDATE left a dead copy of every client: FULL rewrites the table (and
        # its indexes) without them, as the list would find it in production.
        cursor.execute(f"VACUUM {'FULL ' if rollups else ''}ANALYZE {client_table}")
        cursor.execute(f"VACUUM ANALYZE {order_table}")
    timings["vacuum_s"] = time.perf_counter() - vacuum_started
    timings["total_s"] = time.perf_counter() - started
    print(
        f"seeded {clients:,} clients and {orders:,} orders in {timings['total_s']:.1f} s "
        f"(COPY clients {timings['clients_s']:.1f} s, COPY orders {timings['orders_s']:.1f} s, "
        f"indexes and foreign keys {timings['indexes_s']:.1f} s, "
        f"VACUUM ANALYZE {timings['vacuum_s']:.1f} s); login {BENCH_USERNAME!r}"
        + (f"; roll-ups {', '.join(rollups)} set from the orders" if rollups else ""),
        file=out,
    )
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42, help="random seed (repeatable data)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mini_crm.settings")
    import django

    django.setup()
    seed(clients=args.clients, orders=args.orders, seed=args.seed)


if __name__ == "__main__":
    main()
