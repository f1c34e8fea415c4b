from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Every order in one place: the list at /orders/ and the pipeline board at /orders/board/.
    No models of its own: it reads and moves clients.Order."""

    name = "orders"
