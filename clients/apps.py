from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the history records of each (history/): the roll-ups change with every order and are
# the orders' history, not the client's.
HISTORY_FIELDS = {
    "client": ["name", "email", "phone", "avatar", "vip"],
    "order": ["client", "title", "amount", "status"],
}


class ClientsConfig(AppConfig):
    """The domain: clients and their orders (the totals, `active()` and the merge need both)."""

    name = "clients"
    verbose_name = _("Clients")

    def ready(self) -> None:
        from clients import (
            cache,  # noqa: F401  (the list cache's version bump)
            signals,  # noqa: F401  (connects the receivers)
        )
        from clients.models import Client, Order
        from clients.triggers import ROLLUP_TRIGGERS
        from history.registry import track

        track(Client, fields=HISTORY_FIELDS["client"], client_of=lambda client: client.pk)
        track(Order, fields=HISTORY_FIELDS["order"], cascades_logged=False)

        # Once the roll-up fields exist in the migration state (migration 0007).
        ROLLUP_TRIGGERS.keep_in_force(self, ready=_has_rollup_fields)


def _has_rollup_fields(apps) -> bool:
    return any(f.name == "orders_count" for f in apps.get_model("clients", "Client")._meta.fields)
