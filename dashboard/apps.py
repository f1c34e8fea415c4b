from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


class DashboardConfig(AppConfig):
    """The landing page's figures (/dashboard/, /api/stats/) and the roll-ups that make them
    cheap: orders and clients summed per time bucket by database triggers."""

    name = "dashboard"

    def ready(self) -> None:
        pre_migrate.connect(drop_sqlite_triggers, sender=self)
        post_migrate.connect(ensure_triggers, sender=self)


def drop_sqlite_triggers(sender, using: str, **kwargs) -> None:
    """SQLite rebuilds a table to alter it and refuses to rename one a trigger names (the same
    reason as clients/apps.py): the roll-up triggers step aside during `migrate`."""
    from dashboard import triggers

    connection = connections[using]
    if connection.vendor == "sqlite":
        triggers.uninstall(connection)


def ensure_triggers(sender, using: str, apps=global_apps, **kwargs) -> None:
    """Install the roll-up triggers (dashboard/triggers.py) once the roll-up tables exist in the
    migration state `apps` (`flush` sends the signal without one)."""
    from dashboard import triggers

    try:
        apps.get_model("dashboard", "OrderRollup")
    except LookupError:
        return
    triggers.install(connections[using])
