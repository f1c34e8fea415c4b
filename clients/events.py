"""Domain events, delivered once the transaction that caused them commits.

Other parts of the app (the list cache, the live page) subscribe to these instead of to model
signals, so they never act on a change that is later rolled back, and a failing subscriber
(a dead Redis, say) never breaks or undoes the save: receivers run with send_robust and their
errors are logged.
"""

import logging
import weakref

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


# Above this many distinct order_changed events in one transaction the board gets one "many
# orders changed, refresh" instead (a bulk edit, a client's orders deleted one by one).
BULK_ORDER_EVENTS = 50


def _fold_clients_changed(events: list[dict]) -> list[dict]:
    # One bump of the list cache: only orders changed if every event said so.
    return [{"orders_only": all(event.get("orders_only", False) for event in events)}]


def _fold_order_changed(events: list[dict]) -> list[dict]:
    if len(events) > BULK_ORDER_EVENTS or any(event["order_id"] is None for event in events):
        return [{"order_id": None, "deleted": any(event["deleted"] for event in events)}]
    return events


# How a transaction's events of one signal become what is sent once it commits; any other
# signal sends each distinct event once, in the order they came.
_FOLDS = {clients_changed: _fold_clients_changed, order_changed: _fold_order_changed}


class _Batch:
    """The events of one transaction (one savepoint of it) on one connection, sent by one
    on-commit callback: a statement that writes 20,000 rows makes one cache bump and one
    broadcast decision, not 20,000 callbacks (and 20,000 Redis round trips).

    One batch per savepoint, as Django keeps its callbacks: a savepoint rolled back takes its
    batch's callback, and so its events, with it, and the enclosing batch never held them."""

    def __init__(self, connection):
        self.connection = weakref.ref(connection)  # the batch must not keep a closed one alive
        self.events: dict[Signal, dict[tuple, dict]] = {}
        self.callback = self.send  # one bound method, found again by identity below

    def registered(self, connection) -> bool:
        # False once the transaction ended or a savepoint rolled back over our callback.
        return any(func is self.callback for _, func, _ in connection.run_on_commit)

    def add(self, signal: Signal, kwargs: dict) -> None:
        key = tuple(sorted(kwargs.items()))
        self.events.setdefault(signal, {}).setdefault(key, kwargs)

    def send(self) -> None:
        connection = self.connection()
        batches = _batches.get(connection, {}) if connection is not None else {}
        for sids, batch in list(batches.items()):
            if batch is self:
                del batches[sids]
        for signal, events in self.events.items():
            fold = _FOLDS.get(signal, list)
            for kwargs in fold(list(events.values())):
                _send(signal, kwargs)


# Per connection, its open batches by the savepoints they were started in.
_batches: "weakref.WeakKeyDictionary[object, dict[tuple, _Batch]]" = weakref.WeakKeyDictionary()


def send_after_commit(signal: Signal, **kwargs) -> None:
    """Send `signal` after the current transaction commits (at once when there is none),
    once per distinct event and transaction (see _FOLDS for the signals folded further)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _send(signal, kwargs)
        return
    batches = _batches.setdefault(connection, {})
    # An atomic(savepoint=False) inside (a delete's, a save's) files a None: not a savepoint.
    sids = tuple(sid for sid in connection.savepoint_ids if sid is not None)
    batch = batches.get(sids)
    if batch is None or not batch.registered(connection):
        batch = batches[sids] = _Batch(connection)
        transaction.on_commit(batch.callback, robust=True)
    batch.add(signal, kwargs)


def batch_end(using: str | None = None) -> None:
    """Events from now on go to new batches, with callbacks of their own. For tests that
    capture the on-commit callbacks of a part of the one transaction they run in (conftest.py):
    in that transaction's earlier batch those events would not be captured."""
    _batches.pop(transaction.get_connection(using), None)


def _send(signal: Signal, kwargs: dict) -> None:
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "event receiver %r failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )
