from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


class ClientsConfig(AppConfig):
    """The domain: clients and their orders (the totals, `active()` and the merge need both)."""

    name = "clients"

    def ready(self) -> None:
        from clients import (
            cache,  # noqa: F401  (the list cache's version bump)
            signals,  # noqa: F401  (connects the receivers)
        )

        pre_migrate.connect(drop_sqlite_triggers, sender=self)
        post_migrate.connect(ensure_triggers, sender=self)


def drop_sqlite_triggers(sender, using: str, **kwargs) -> None:
    """SQLite rebuilds a table to alter it, and refuses to rename one a trigger names: the
    roll-up triggers step aside during `migrate` and come back after it (ensure_triggers)."""
    from clients import triggers

    connection = connections[using]
    if connection.vendor == "sqlite":
        triggers.uninstall(connection)


def ensure_triggers(sender, using: str, apps=global_apps, **kwargs) -> None:
    """Install the roll-up triggers (clients/triggers.py) once the roll-up fields exist (in the
    migration state `apps`; `flush` sends the signal without one)."""
    from clients import triggers

    fields = {f.name for f in apps.get_model("clients", "Client")._meta.get_fields()}
    if "orders_count" in fields:
        triggers.install(connections[using])
