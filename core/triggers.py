"""Database triggers an app keeps in force, on PostgreSQL and SQLite.

An app describes its triggers (their names per database vendor, the table each is on, and the
statements that create or replace them all) and gets one `TriggerSet`: its migration installs
it, `keep_in_force()` re-installs it after every `migrate` (the definition in the app's code is
always the one in force, the way Django re-ensures permissions) and, on SQLite, drops it before
`migrate`, because SQLite's table rebuild (how Django alters a table there) refuses to rename a
table that a trigger names. Used by clients/triggers.py and dashboard/triggers.py.
"""

from collections.abc import Callable

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_migrate, pre_migrate


class TriggerSet:
    def __init__(
        self,
        *,
        names: dict[str, list[str]],
        table_of: Callable[[str], str],
        statements: Callable[[str], list[str]],
    ):
        self.names = names  # vendor -> the trigger names (on PostgreSQL, each with a function)
        self.table_of = table_of  # trigger name -> the table it is on
        self.statements = statements  # vendor -> the idempotent CREATE statements

    def install(self, connection: BaseDatabaseWrapper) -> None:
        """Create or replace every trigger (idempotent)."""
        with connection.cursor() as cursor:
            for statement in self.statements(connection.vendor):
                cursor.execute(statement)

    def uninstall(self, connection: BaseDatabaseWrapper) -> None:
        with connection.cursor() as cursor:
            for name in self.names[connection.vendor]:
                if connection.vendor == "postgresql":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {self.table_of(name)}")
                    cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
                else:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")

    def installed(self, connection: BaseDatabaseWrapper) -> set[str]:
        """The names of this set's triggers present in the database."""
        names = set(self.names[connection.vendor])
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                tables = sorted({self.table_of(name) for name in names})
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                    " AND tgrelid = ANY(%s::regclass[])",
                    [tables],
                )
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {name for (name,) in cursor.fetchall()} & names

    def missing(self, connection: BaseDatabaseWrapper) -> set[str]:
        """The triggers the database should have and has not (`migrate` installs them)."""
        return set(self.names[connection.vendor]) - self.installed(connection)

    def keep_in_force(self, app_config, *, ready: Callable) -> None:
        """From `app_config.ready()`: drop the set before `migrate` on SQLite, and install it
        after every `migrate` once `ready(apps)` says the migration state `apps` has what the
        triggers write to (`flush` sends post_migrate without a state: the current models)."""

        def drop_on_sqlite(sender, using: str, **kwargs) -> None:
            if connections[using].vendor == "sqlite":
                self.uninstall(connections[using])

        def ensure(sender, using: str, apps=None, **kwargs) -> None:
            if ready(apps or app_config.apps):
                self.install(connections[using])

        # Strong references: the receivers are closures, which the signals would otherwise drop.
        pre_migrate.connect(drop_on_sqlite, sender=app_config, weak=False)
        post_migrate.connect(ensure, sender=app_config, weak=False)
