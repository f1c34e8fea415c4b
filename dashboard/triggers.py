"""The database triggers that keep the dashboard's roll-ups (dashboard/models.py) exact.

Why triggers, as for the clients' own roll-ups (clients/triggers.py): no write path can forget
them, not `QuerySet.update()` (the merge), `bulk_create`, the admin, a shell, raw SQL or `COPY`.
`OrderRollup` follows clients_order (created_at, status, amount); `ClientRollup` follows
clients_client (created_at, vip, and whether open_orders_count is above 0, which the clients'
triggers change whenever an order opens or closes a client's account).

PostgreSQL: statement-level triggers with transition tables, so a statement that writes many
rows changes each bucket once. The buckets are updated one at a time in bucket order, so two
statements touching the same buckets queue instead of deadlocking; a bucket is inserted only
when it is new (an UPDATE first, then an upsert that also wins a race with a concurrent insert).
SQLite has no statement-level triggers: one per row, with an upsert.

Installed by migration 0001 and re-ensured after every `migrate` (dashboard/apps.py); on SQLite
dropped before `migrate` too (a table rebuild refuses to rename a table a trigger names).
`REBUILD` recomputes both roll-ups from scratch: the migration's backfill, the fix after a drift
(`manage.py check_rollups --fix`, the nightly `dashboard.check_rollups`), and what a bulk load
that disables the triggers (bench/seed.py) must run after it.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

from core.triggers import TriggerSet

# --- PostgreSQL ---------------------------------------------------------------------------------
# dashboard.models.bucket_start() in SQL; date_trunc in 'UTC', whatever the session's zone.
_PG_BUCKET = """
CREATE OR REPLACE FUNCTION dashboard_bucket(t timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t < date_trunc('month', t + interval '14 hours', 'UTC') + interval '14 hours'
        THEN date_trunc('hour', t, 'UTC')
        ELSE date_trunc('month', t + interval '14 hours', 'UTC') + interval '14 hours'
    END
$$"""

_ORDER_CHANGED = (
    "(n.created_at, n.status, n.amount) IS DISTINCT FROM (o.created_at, o.status, o.amount)"
)
_CLIENT_CHANGED = (
    "(n.created_at, n.vip, n.open_orders_count > 0) "
    "IS DISTINCT FROM (o.created_at, o.vip, o.open_orders_count > 0)"
)
_ORDER_ROW = (
    "dashboard_bucket({t}.created_at) AS bucket, {t}.status, {s}1 AS n, {s}{t}.amount AS amount"
)
_CLIENT_ROW = (
    "dashboard_bucket({t}.created_at) AS bucket, {s}1 AS n, "
    "{s}(CASE WHEN {t}.vip THEN 1 ELSE 0 END) AS vip, "
    "{s}(CASE WHEN {t}.open_orders_count > 0 THEN 1 ELSE 0 END) AS active"
)


def _changes(row: str, changed: str, table: str) -> dict[str, tuple[str, str]]:
    """Per operation: the transition tables, and the changed rows with their sign (an UPDATE
    counts minus the old row and plus the new one, for the rows whose relevant columns
    changed)."""
    new, old = row.format(t="n", s=""), row.format(t="o", s="-")
    return {
        "insert": (f"NEW TABLE AS new_{table}", f"SELECT {new} FROM new_{table} n"),
        "delete": (f"OLD TABLE AS old_{table}", f"SELECT {old} FROM old_{table} o"),
        "update": (
            f"OLD TABLE AS old_{table} NEW TABLE AS new_{table}",
            f"SELECT {new} FROM new_{table} n JOIN old_{table} o ON o.id = n.id WHERE {changed} "
            f"UNION ALL SELECT {old} FROM new_{table} n JOIN old_{table} o ON o.id = n.id "
            f"WHERE {changed}",
        ),
    }


# (source table, roll-up table, its key columns, its summed columns, the changed rows)
_TARGETS = {
    "order": (
        "clients_order",
        "dashboard_orderrollup",
        ("bucket", "status"),
        {"orders_count": "n", "amount": "amount"},
        _changes(_ORDER_ROW, _ORDER_CHANGED, "orders"),
    ),
    "client": (
        "clients_client",
        "dashboard_clientrollup",
        ("bucket",),
        {"clients_count": "n", "vip_count": "vip", "active_count": "active"},
        _changes(_CLIENT_ROW, _CLIENT_CHANGED, "clients"),
    ),
}


def _pg_trigger(target: str, operation: str) -> list[str]:
    source, rollup, keys, sums, changes = _TARGETS[target]
    referencing, rows = changes[operation]
    name = f"dashboard_{target}_rollup_{operation}"
    key_list = ", ".join(keys)
    deltas = ", ".join(f"SUM({alias}) AS {alias}" for alias in sums.values())
    nonzero = " OR ".join(f"d.{alias} <> 0" for alias in sums.values())
    where = " AND ".join(f"{key} = d.{key}" for key in keys)
    add = ", ".join(f"{column} = {rollup}.{column} + d.{alias}" for column, alias in sums.items())
    added = ", ".join(f"{column} = {rollup}.{column} + EXCLUDED.{column}" for column in sums)
    values = ", ".join([*(f"d.{key}" for key in keys), *(f"d.{alias}" for alias in sums.values())])
    function = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d record;
BEGIN
    FOR d IN
        SELECT {key_list}, {deltas} FROM ({rows}) AS change
        GROUP BY {key_list} ORDER BY {key_list}
    LOOP
        CONTINUE WHEN NOT ({nonzero});
        UPDATE {rollup} SET {add} WHERE {where};
        IF NOT FOUND THEN
            INSERT INTO {rollup} ({key_list}, {", ".join(sums)}) VALUES ({values})
            ON CONFLICT ({key_list}) DO UPDATE SET {added};
        END IF;
    END LOOP;
    RETURN NULL;
END $$"""
    return [
        function,
        f"DROP TRIGGER IF EXISTS {name} ON {source}",
        f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {source} "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _pg_truncate(target: str) -> list[str]:
    # TRUNCATE (Django's flush, the bench's re-seed) empties the source in one go.
    source, rollup, *_ = _TARGETS[target]
    name = f"dashboard_{target}_rollup_truncate"
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN DELETE FROM {rollup}; RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS {name} ON {source}",
        f"CREATE TRIGGER {name} AFTER TRUNCATE ON {source} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


_OPERATIONS = ("insert", "update", "delete")

# --- SQLite: one trigger per row ----------------------------------------------------------------
# bucket_start() on Django's SQLite datetime text ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC).
_SQLITE_MONTH = "datetime(strftime('%Y-%m-01 00:00:00', {c}, '+14 hours'), '+14 hours')"
_SQLITE_BUCKET = (
    f"(CASE WHEN {{c}} < {_SQLITE_MONTH} THEN strftime('%Y-%m-%d %H:00:00', {{c}}) "
    f"ELSE {_SQLITE_MONTH} END)"
)


def _sqlite_bucket(column: str) -> str:
    return _SQLITE_BUCKET.replace("{c}", column)


# ROUND: SQLite adds decimals as floats (the same reason as in clients/triggers.py).
def _sqlite_order(row: str, sign: str) -> str:
    if sign == "+":
        return f"""
    INSERT INTO dashboard_orderrollup (bucket, status, orders_count, amount)
    VALUES ({_sqlite_bucket(f"{row}.created_at")}, {row}.status, 1, {row}.amount)
    ON CONFLICT (bucket, status) DO UPDATE SET
        orders_count = orders_count + 1, amount = ROUND(amount + excluded.amount, 2);"""
    return f"""
    UPDATE dashboard_orderrollup SET
        orders_count = orders_count - 1, amount = ROUND(amount - {row}.amount, 2)
    WHERE bucket = {_sqlite_bucket(f"{row}.created_at")} AND status = {row}.status;"""


def _sqlite_client(row: str, sign: str) -> str:
    vip = f"(CASE WHEN {row}.vip THEN 1 ELSE 0 END)"
    active = f"(CASE WHEN {row}.open_orders_count > 0 THEN 1 ELSE 0 END)"
    if sign == "+":
        return f"""
    INSERT INTO dashboard_clientrollup (bucket, clients_count, vip_count, active_count)
    VALUES ({_sqlite_bucket(f"{row}.created_at")}, 1, {vip}, {active})
    ON CONFLICT (bucket) DO UPDATE SET clients_count = clients_count + 1,
        vip_count = vip_count + excluded.vip_count,
        active_count = active_count + excluded.active_count;"""
    return f"""
    UPDATE dashboard_clientrollup SET clients_count = clients_count - 1,
        vip_count = vip_count - {vip}, active_count = active_count - {active}
    WHERE bucket = {_sqlite_bucket(f"{row}.created_at")};"""


_SQLITE = {
    "dashboard_order_rollup_insert": "AFTER INSERT ON clients_order "
    f"BEGIN {_sqlite_order('NEW', '+')} END",
    "dashboard_order_rollup_delete": "AFTER DELETE ON clients_order "
    f"BEGIN {_sqlite_order('OLD', '-')} END",
    "dashboard_order_rollup_update": "AFTER UPDATE OF created_at, status, amount ON clients_order "
    "WHEN OLD.created_at IS NOT NEW.created_at OR OLD.status IS NOT NEW.status "
    "OR OLD.amount <> NEW.amount "
    f"BEGIN {_sqlite_order('OLD', '-')} {_sqlite_order('NEW', '+')} END",
    "dashboard_client_rollup_insert": "AFTER INSERT ON clients_client "
    f"BEGIN {_sqlite_client('NEW', '+')} END",
    "dashboard_client_rollup_delete": "AFTER DELETE ON clients_client "
    f"BEGIN {_sqlite_client('OLD', '-')} END",
    "dashboard_client_rollup_update": "AFTER UPDATE OF created_at, vip, open_orders_count "
    "ON clients_client WHEN OLD.created_at IS NOT NEW.created_at OR OLD.vip IS NOT NEW.vip "
    "OR (OLD.open_orders_count > 0) IS NOT (NEW.open_orders_count > 0) "
    f"BEGIN {_sqlite_client('OLD', '-')} {_sqlite_client('NEW', '+')} END",
}

NAMES = {
    "postgresql": [
        f"dashboard_{target}_rollup_{op}"
        for target in _TARGETS
        for op in (*_OPERATIONS, "truncate")
    ],
    "sqlite": list(_SQLITE),
}


# --- Rebuilding from scratch ----------------------------------------------------------------------
def _rebuild(bucket) -> list[str]:
    return [
        "DELETE FROM dashboard_orderrollup",
        "INSERT INTO dashboard_orderrollup (bucket, status, orders_count, amount) "
        f"SELECT {bucket('created_at')} AS b, status, COUNT(*), SUM(amount) FROM clients_order "
        "GROUP BY b, status",
        "DELETE FROM dashboard_clientrollup",
        "INSERT INTO dashboard_clientrollup (bucket, clients_count, vip_count, active_count) "
        f"SELECT {bucket('created_at')} AS b, COUNT(*), "
        "SUM(CASE WHEN vip THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN open_orders_count > 0 THEN 1 ELSE 0 END) FROM clients_client GROUP BY b",
    ]


# One call for whoever loads rows with the triggers off: `SELECT dashboard_rollups_rebuild()`.
# The SHARE locks keep writers out until the transaction ends, so nothing is counted twice or lost.
_PG_REBUILD = f"""
CREATE OR REPLACE FUNCTION dashboard_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE clients_client, clients_order IN SHARE MODE;
    {"; ".join(_rebuild(lambda column: f"dashboard_bucket({column})"))};
END $$"""
REBUILD = {
    "postgresql": ["SELECT dashboard_rollups_rebuild()"],
    "sqlite": _rebuild(_sqlite_bucket),
}


def _statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [_PG_BUCKET, _PG_REBUILD]
        for target in _TARGETS:
            statements += [s for op in _OPERATIONS for s in _pg_trigger(target, op)]
            statements += _pg_truncate(target)
        return statements
    if vendor == "sqlite":
        return [f"CREATE TRIGGER IF NOT EXISTS {name} {body}" for name, body in _SQLITE.items()]
    raise NotImplementedError(
        f"no roll-up triggers for {vendor}: add them to dashboard/triggers.py"
    )


# Installed by migration 0001, kept in force by dashboard/apps.py (core/triggers.py).
ROLLUP_TRIGGERS = TriggerSet(
    names=NAMES,
    # "dashboard_<target>_rollup_<operation>" is on the target's source table.
    table_of=lambda name: _TARGETS[name.split("_")[1]][0],
    statements=_statements,
)


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """Recompute both roll-ups from the orders and clients (run inside a transaction)."""
    with connection.cursor() as cursor:
        for statement in REBUILD[connection.vendor]:
            cursor.execute(statement)
