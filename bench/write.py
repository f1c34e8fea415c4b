"""Creating orders, the write the issue's roll-ups make dearer: `POST /api/orders/` as JSON with
the API token of the bench's writer (a staff login in the Sales role: the API's writes need
staff status and `clients.add_order`), each request for a random client, as a script or an
integration would. wrk sends the body from a Lua script; the server answers 201.

It runs last in a size, after every other figure and the export, because it adds orders (and
each new order retires the list's cached pages); the orders it added are deleted afterwards
(by id, in SQL), so the next run with --no-seed finds the seeded data.
"""

import json
import random

from bench.load import SEED_PER_THREAD, Plan
from bench.server import request

WRITE_PATH = "/api/orders/"
ORDER_TABLE = "clients_order"  # Django's default table name for clients.Order
# Most orders are created open, some straight away done: every roll-up has something to do.
STATUSES = ["NEW", "NEW", "IN_PROGRESS", "DONE"]


def plan(clients: int) -> Plan:
    statuses = ", ".join(f'"{s}"' for s in STATUSES)
    lua = SEED_PER_THREAD + (
        f"local statuses = {{{statuses}}}\n"
        "request = function()\n"
        "  local body = string.format(\n"
        '    \'{"client": %d, "title": "Bench order", "amount": "%d.%02d", "status": "%s"}\',\n'
        f"    math.random(1, {clients}), math.random(1, 4999), math.random(0, 99),\n"
        f"    statuses[math.random(1, {len(STATUSES)})])\n"
        f'  return wrk.format("POST", "{WRITE_PATH}", nil, body)\n'
        "end\n"
    )

    def next_request() -> tuple[str, str, bytes]:
        return "POST", WRITE_PATH, body(random.randint(1, clients))

    return Plan("create-order", lua, next_request)


def body(client_id: int) -> bytes:
    amount = f"{random.randint(1, 4999)}.{random.randint(0, 99):02}"
    order = {"client": client_id, "title": "Bench order", "amount": amount}
    return json.dumps({**order, "status": random.choice(STATUSES)}).encode()


def headers(base: dict[str, str], token: str) -> dict[str, str]:
    """The token instead of the session cookie: the API's own authentication, no CSRF."""
    sent = {name: value for name, value in base.items() if name != "Cookie"}
    return {
        **sent,
        "Authorization": f"Token {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def probe(base_url: str, sent: dict[str, str]) -> int:
    """One order for client 1; the answer's status (201 when the API creates it)."""
    return request(base_url, "POST", WRITE_PATH, sent, body(1))[0]


def last_order_id(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {ORDER_TABLE}").fetchone()[0]


def delete_orders_after(database_url: str, order_id: int) -> int:
    """Delete the orders the scenario created (every id above `order_id`); how many. Whatever
    the app keeps in step with the orders by triggers follows the DELETE as it did the INSERTs."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(f"DELETE FROM {ORDER_TABLE} WHERE id > %s", [order_id]).rowcount
