"""Concurrent writers on PostgreSQL's real row locks end with the stored roll-ups exact.

Eight threads, each on its own connection, released together by a barrier, run a random mix
of what the app does to orders: create (ORM and bulk), re-price, change status, re-assign to
another client (save() and QuerySet.update()), delete, and merge two clients. Writes that
lose a race (the client was merged away a moment ago) fail cleanly; none may deadlock, and
afterwards no client's roll-ups differ from a fresh aggregate (clients/triggers.py).
"""

import random
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from clients.models import Client, Order
from clients.services import MergeError, client_merge, missing_triggers, totals_drift
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 8
OPS_EACH = 40
CLIENTS = 16


def random_amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(0, 100_000)) / 100


def pick(rng: random.Random, model) -> int | None:
    ids = list(model.objects.values_list("pk", flat=True)[:200])
    return rng.choice(ids) if ids else None


def create(rng):
    client_id = pick(rng, Client)
    if client_id is not None:
        Order.objects.create(client_id=client_id, title="new", amount=random_amount(rng))


def create_many(rng):
    client_id = pick(rng, Client)
    if client_id is not None:
        Order.objects.bulk_create(
            [Order(client_id=client_id, title="bulk", amount=random_amount(rng)) for _ in range(3)]
        )


def reprice(rng):
    order = Order.objects.filter(pk=pick(rng, Order)).first()
    if order is not None:
        order.amount = random_amount(rng)
        order.save(update_fields=["amount"])


def change_status(rng):
    Order.objects.filter(pk=pick(rng, Order)).update(status=rng.choice(Order.Status.values))


def reassign(rng):
    order = Order.objects.filter(pk=pick(rng, Order)).first()
    if order is not None:
        order.client_id = pick(rng, Client)
        order.save()


def reassign_bulk(rng):
    # Many rows in one UPDATE, locked first in id order the way the merge does: two unordered
    # bulk UPDATEs over the same rows can deadlock on the rows themselves, triggers or not.
    source, target = pick(rng, Client), pick(rng, Client)
    with transaction.atomic():
        orders = Order.objects.select_for_update().filter(client_id=source).order_by("pk")
        ids = list(orders.values_list("pk", flat=True))
        Order.objects.filter(pk__in=ids).update(client_id=target, status="IN_PROGRESS")


def delete(rng):
    Order.objects.filter(pk=pick(rng, Order)).delete()


def merge(rng):
    source, target = pick(rng, Client), pick(rng, Client)
    if source and target and source != target:
        client_merge(source_id=source, target_id=target)


def add_client(rng):
    ClientFactory()


def edit_client(rng):
    # Read, then save a moment later, as the edit page does: the roll-ups it read may be stale
    # by then, and must not be written back (Client.save).
    client = Client.objects.filter(pk=pick(rng, Client)).first()
    if client is not None:
        client.phone = f"+49 {rng.randrange(10**6)}"
        client.save()


OPERATIONS = [create] * 4 + [create_many, reprice, reprice, change_status, change_status]
OPERATIONS += [reassign, reassign, reassign_bulk, delete, delete, merge, add_client]
OPERATIONS += [edit_client, edit_client]
# A write that lost a race: the client it names was merged away or deleted meanwhile.
# save(update_fields=...) of an order deleted meanwhile raises NotUpdated.
LOST_RACE = (MergeError, IntegrityError, Client.DoesNotExist, Order.NotUpdated)
LOST_RACE += (Client.NotUpdated,)  # a client merged away between the read and the save


def test_concurrent_writers_leave_no_drift():
    for i in range(CLIENTS):
        client = ClientFactory()
        OrderFactory.create_batch(3, client=client, amount=Decimal(f"{i}.25"))
    barrier = threading.Barrier(THREADS)
    done, lost, failures = [0], [0], []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait(timeout=30)
            for _ in range(OPS_EACH):
                operation = rng.choice(OPERATIONS)
                try:
                    operation(rng)
                    outcome = done
                except LOST_RACE:
                    outcome = lost
                except (OperationalError, Exception) as error:  # a deadlock would land here
                    with lock:
                        failures.append(f"{operation.__name__}: {error}")
                    continue
                with lock:
                    outcome[0] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert failures == [], "\n\n".join(failures)  # no deadlock, no lock timeout
    assert done[0] + lost[0] == THREADS * OPS_EACH
    assert done[0] > lost[0]  # most writes went through: the test really wrote
    assert missing_triggers() == set()
    assert totals_drift() == []


def hold_order_lock(order_id: int, *, release: threading.Event, held: threading.Event) -> None:
    """Another writer: lock one order (as an edit does, before its trigger needs the client)."""
    try:
        with transaction.atomic():
            list(Order.objects.select_for_update().filter(pk=order_id))
            held.set()
            release.wait(timeout=30)
    finally:
        connection.close()


def test_a_merge_steps_back_from_a_busy_order_and_says_so(monkeypatch):
    monkeypatch.setattr("clients.services.MERGE_ATTEMPTS", 2)
    source, target = ClientFactory(), ClientFactory()
    order = OrderFactory(client=source)
    release, held = threading.Event(), threading.Event()
    blocker = threading.Thread(
        target=hold_order_lock, args=(order.pk,), kwargs={"release": release, "held": held}
    )
    blocker.start()
    try:
        assert held.wait(timeout=10)
        with pytest.raises(MergeError) as caught:
            client_merge(source_id=source.pk, target_id=target.pk)
        assert caught.value.code == "busy"
    finally:
        release.set()
        blocker.join(timeout=30)
    # Nothing was merged: both clients and the order are where they were.
    assert Client.objects.filter(pk__in=[source.pk, target.pk]).count() == 2
    assert Order.objects.get(pk=order.pk).client_id == source.pk


def test_a_merge_retries_once_the_order_is_free():
    source, target = ClientFactory(), ClientFactory()
    order = OrderFactory(client=source)
    release, held = threading.Event(), threading.Event()
    blocker = threading.Thread(
        target=hold_order_lock, args=(order.pk,), kwargs={"release": release, "held": held}
    )
    blocker.start()
    assert held.wait(timeout=10)
    threading.Timer(0.08, release.set).start()  # the writer commits during the retries
    result = client_merge(source_id=source.pk, target_id=target.pk)
    blocker.join(timeout=30)
    assert result.orders_moved == 1
    assert Order.objects.get(pk=order.pk).client_id == target.pk
    assert totals_drift() == []
