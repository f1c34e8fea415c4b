from django.db import transaction

from clients.models import Order


def order_move(*, order_id: int, status: str) -> tuple[Order, str]:
    """Put the order `order_id` in `status`; returns the order and its previous status.

    Only the status is written (`update_fields`): a board's move never overwrites an amount or
    a title someone changed since the board was loaded. The row is locked first so that two
    moves of one card queue and each reports the status it really left. The save's signals
    tell the cache and the open boards once the transaction commits (clients/signals.py).
    Raises Order.DoesNotExist when the order is gone.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("client")
        order = order.get(pk=order_id)
        previous = order.status
        if previous != status:
            order.status = status
            order.save(update_fields=["status"])
    return order, previous
