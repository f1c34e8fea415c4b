"""Trashing a client while others add and edit its orders, on PostgreSQL's real row locks: no
order that was saved is lost, none is left behind without its client, and the totals stay
exact after the restore."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection

from clients.models import Client, Order
from clients.services import TrashError, client_restore, client_trash, totals_drift
from clients.tests.factories import ClientFactory, OrderFactory
from dashboard.services import rollups_drift

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRITERS = 4


def test_orders_written_while_the_client_is_trashed_are_trashed_or_refused():
    client = ClientFactory()
    existing = [OrderFactory(client=client, amount=Decimal("1.00")).pk for _ in range(30)]
    saved: list[int] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    order = Order.objects.create(
                        client_id=client.pk, title=f"w{index}-{n}", amount=Decimal("2.50")
                    )
                    saved.append(order.pk)
                    Order.objects.filter(pk=existing[n % len(existing)]).update(
                        amount=Decimal(n % 7), status="DONE" if n % 2 else "NEW"
                    )
                except DatabaseError:  # the client is gone: refused, nothing saved
                    if Client.objects.filter(pk=client.pk).exists():
                        raise
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    for _attempt in range(5):
        try:
            client_trash(client_id=client.pk)
            break
        except TrashError as error:  # a row slipped in unlocked: nothing trashed, try again
            if error.code != "busy":
                raise
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert saved  # the writers did write while the trash ran
    assert not Order.objects.filter(client_id=client.pk).exists()  # none left behind

    client_restore(client_id=client.pk)

    back = set(Order.objects.filter(client_id=client.pk).values_list("pk", flat=True))
    assert set(saved) | set(existing) == back  # every saved order, exactly once
    assert totals_drift() == []
    assert rollups_drift() == []
