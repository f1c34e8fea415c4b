from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    """Every order in one place: the list at /orders/ and the pipeline board at /orders/board/.
    No models of its own: it reads and moves clients.Order."""

    name = "orders"
    verbose_name = _("Orders")
