"""The database triggers that keep each client's order roll-ups exact.

`Client.orders_count`, `orders_total` and `open_orders_count` (orders not DONE) change in the
same transaction as the order rows, through triggers on `clients_order`, so no write path can
forget them: not `QuerySet.update()` (the merge), not `bulk_create` (imports), not the admin,
a shell, raw SQL or `COPY` (the bench's seed). Signals and overridden `save()`s see none of the
bulk paths, and a service function is only as good as every caller's discipline.

PostgreSQL: statement-level triggers with transition tables, so a statement that moves 20,000
orders (a merge) updates each client it touches once, not once per order. The clients are
locked in id order first: two statements touching the same clients then queue instead of
deadlocking. SQLite has no statement-level triggers: one per row, plenty for the embedded
default.

Installed by migration 0007 and re-ensured after every `migrate` (clients/apps.py), the way
Django re-ensures permissions: the definition here is always the one in force. On SQLite they
are dropped before `migrate` too, because SQLite's table rebuild (how Django alters a table
there) refuses to rename a table that a trigger names.
"""

from clients.models import OPEN_EXCLUDED
from core.triggers import TriggerSet

# 1 for an open order, else 0, for the row alias `t`.
_OPEN = f"CASE WHEN {{t}}.status <> '{OPEN_EXCLUDED}' THEN 1 ELSE 0 END"
_CHANGED = "(n.client_id, n.amount, n.status) IS DISTINCT FROM (o.client_id, o.amount, o.status)"

# --- PostgreSQL -------------------------------------------------------------------------------
# Per operation: the transition tables, and the changed rows as (client_id, n, amount, open)
# with their sign. An UPDATE counts minus the old row and plus the new one, for the rows
# whose client, amount or status changed (a title edit touches no client).
_PG = {
    "insert": (
        "NEW TABLE AS new_orders",
        f"SELECT n.client_id, 1 AS n, n.amount, {_OPEN.format(t='n')} AS open FROM new_orders n",
    ),
    "delete": (
        "OLD TABLE AS old_orders",
        f"SELECT o.client_id, -1 AS n, -o.amount AS amount, -{_OPEN.format(t='o')} AS open "
        "FROM old_orders o",
    ),
    "update": (
        "OLD TABLE AS old_orders NEW TABLE AS new_orders",
        f"SELECT n.client_id, 1 AS n, n.amount, {_OPEN.format(t='n')} AS open "
        f"FROM new_orders n JOIN old_orders o ON o.id = n.id WHERE {_CHANGED} "
        f"UNION ALL SELECT o.client_id, -1, -o.amount, -{_OPEN.format(t='o')} "
        f"FROM new_orders n JOIN old_orders o ON o.id = n.id WHERE {_CHANGED}",
    ),
}


def _pg_trigger(operation: str) -> list[str]:
    referencing, changes = _PG[operation]
    name = f"clients_order_rollup_{operation}"
    function = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Lock the clients first, in id order: the UPDATE below locks them in whatever order
    -- its join yields, and two statements doing that could deadlock.
    PERFORM 1 FROM clients_client
    WHERE id IN (SELECT client_id FROM ({changes}) AS change)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE clients_client AS c SET
        orders_count = c.orders_count + d.n,
        orders_total = c.orders_total + d.amount,
        open_orders_count = c.open_orders_count + d.open
    FROM (
        SELECT client_id, SUM(n) AS n, SUM(amount) AS amount, SUM(open) AS open
        FROM ({changes}) AS change
        GROUP BY client_id
    ) AS d
    WHERE c.id = d.client_id AND (d.n <> 0 OR d.amount <> 0 OR d.open <> 0);
    RETURN NULL;
END $$"""
    trigger = (
        f"CREATE OR REPLACE TRIGGER {name} AFTER {operation.upper()} ON clients_order "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )
    return [function, trigger]


# TRUNCATE (Django's flush, the bench's re-seed) empties the orders in one go.
_PG_TRUNCATE = [
    """
CREATE OR REPLACE FUNCTION clients_order_rollup_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE clients_client SET orders_count = 0, orders_total = 0, open_orders_count = 0
    WHERE orders_count <> 0 OR orders_total <> 0 OR open_orders_count <> 0;
    RETURN NULL;
END $$""",
    "CREATE OR REPLACE TRIGGER clients_order_rollup_truncate AFTER TRUNCATE ON clients_order "
    "FOR EACH STATEMENT EXECUTE FUNCTION clients_order_rollup_truncate()",
]

# --- SQLite: one trigger per row ----------------------------------------------------------------
# ROUND: SQLite adds decimals as floats; rounding at each step keeps the sum the double nearest
# to the exact two-place value (exact to the cent below 10^13).
_SQLITE_ADD = f"""
    UPDATE clients_client SET
        orders_count = orders_count + 1,
        orders_total = ROUND(orders_total + NEW.amount, 2),
        open_orders_count = open_orders_count + {_OPEN.format(t="NEW")}
    WHERE id = NEW.client_id;"""
_SQLITE_REMOVE = f"""
    UPDATE clients_client SET
        orders_count = orders_count - 1,
        orders_total = ROUND(orders_total - OLD.amount, 2),
        open_orders_count = open_orders_count - {_OPEN.format(t="OLD")}
    WHERE id = OLD.client_id;"""
_SQLITE = {
    "insert": f"AFTER INSERT ON clients_order BEGIN {_SQLITE_ADD} END",
    "delete": f"AFTER DELETE ON clients_order BEGIN {_SQLITE_REMOVE} END",
    "update": "AFTER UPDATE OF client_id, amount, status ON clients_order "
    "WHEN OLD.client_id IS NOT NEW.client_id OR OLD.amount <> NEW.amount "
    f"OR OLD.status IS NOT NEW.status BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
}

NAMES = {
    "postgresql": [f"clients_order_rollup_{op}" for op in (*_PG, "truncate")],
    "sqlite": [f"clients_order_rollup_{op}" for op in _SQLITE],
}

# Every client's roll-ups recomputed from the orders (the migration's backfill).
BACKFILL = f"""
UPDATE clients_client SET
    orders_count = (SELECT COUNT(*) FROM clients_order o WHERE o.client_id = clients_client.id),
    orders_total = (
        SELECT COALESCE(SUM(o.amount), 0) FROM clients_order o
        WHERE o.client_id = clients_client.id
    ),
    open_orders_count = (
        SELECT COUNT(*) FROM clients_order o
        WHERE o.client_id = clients_client.id AND o.status <> '{OPEN_EXCLUDED}'
    )
"""


def _statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [s for op in _PG for s in _pg_trigger(op)] + _PG_TRUNCATE
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS clients_order_rollup_{op} {body}"
            for op, body in _SQLITE.items()
        ]
    raise NotImplementedError(f"no roll-up triggers for {vendor}: add them to clients/triggers.py")


# Installed by migration 0007, kept in force by clients/apps.py (core/triggers.py).
ROLLUP_TRIGGERS = TriggerSet(
    names=NAMES, table_of=lambda name: "clients_order", statements=_statements
)
