from django.apps import AppConfig


class ClientsConfig(AppConfig):
    """The domain: clients and their orders (the totals, `active()` and the merge need both)."""

    name = "clients"

    def ready(self) -> None:
        from clients import (
            cache,  # noqa: F401  (the list cache's version bump)
            signals,  # noqa: F401  (connects the receivers)
        )
        from clients.triggers import ROLLUP_TRIGGERS

        # Once the roll-up fields exist in the migration state (migration 0007).
        ROLLUP_TRIGGERS.keep_in_force(self, ready=_has_rollup_fields)


def _has_rollup_fields(apps) -> bool:
    return any(f.name == "orders_count" for f in apps.get_model("clients", "Client")._meta.fields)
