from django.apps import AppConfig


class ClientsConfig(AppConfig):
    """The domain: clients and their orders (the totals, `active()` and the merge need both)."""

    name = "clients"

    def ready(self) -> None:
        from clients import (
            cache,  # noqa: F401  (the list cache's version bump)
            signals,  # noqa: F401  (connects the receivers)
        )
