"""Domain events, delivered once the transaction that caused them commits.

Other parts of the app (the list cache, the live page) subscribe to these instead of to model
signals, so they never act on a change that is later rolled back, and a failing subscriber
(a dead Redis, say) never breaks or undoes the save: receivers run with send_robust and their
errors are logged.
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Any client or order was created, updated, deleted or merged. Argument: orders_only (True
# when only orders changed, so which clients exist and what they hold did not; default False).
clients_changed = Signal()
# An order was created. Arguments: order_id.
order_created = Signal()
# One order was created, changed (status, amount, title, client) or deleted: the board's live
# event. Arguments: order_id, deleted (True when it is gone). A delete of many orders at once
# (a QuerySet's, or a client's with its orders) sends one with order_id None: "many changed".
order_changed = Signal()


# A merge is moving the client `source_id` into `target_id`: sent inside the merge's
# transaction, before the source is deleted, with Signal.send (not after commit, not robust):
# what other apps keep per client (notes, tasks) moves with the orders, or the merge fails
# whole. Arguments: source_id, target_id.
client_merging = Signal()


def send_after_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` after the current transaction commits (at once when there is none)."""

    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                logger.error(
                    "event receiver %r failed",
                    receiver,
                    exc_info=(type(result), result, result.__traceback__),
                )

    transaction.on_commit(send, robust=True)
