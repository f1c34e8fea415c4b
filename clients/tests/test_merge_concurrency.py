"""Many merges at once, in opposite directions, on PostgreSQL's real row locks.

Each thread has its own database connection and its own logged-in browser (test Client), so
the merges really overlap: a barrier releases each round's merges together, and half of every
round merges A into B while the other half merges B into A.
"""

import random
import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Sum
from django.test import Client as HttpClient

from clients.models import Client, Order
from clients.permissions import MANAGERS
from clients.services import MergeError, client_merge
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 8
ROUNDS = 3  # 8 threads x 3 rounds = 24 merges through the page
CLIENTS = 24
ORDERS_EACH = 3


def seed() -> list[int]:
    ids = []
    for i in range(CLIENTS):
        client = ClientFactory(name=f"Client {i}", phone="" if i % 2 else f"+49 {i}")
        for j in range(ORDERS_EACH):
            OrderFactory(client=client, amount=Decimal(f"{i}.{j}0"))
        ids.append(client.pk)
    return ids


def opposite_pairs(ids: list[int], rng: random.Random, count: int) -> list[tuple[int, int]]:
    """`count` merges, half of them A→B and half the same pairs B→A."""
    pairs = []
    for _ in range(count // 2):
        a, b = rng.sample(ids, 2)
        pairs += [(a, b), (b, a)]
    return pairs


def run_in_threads(work, plan: list[list[tuple[int, int]]]) -> list:
    """Run `work(source, target)` for plan[round][thread], each round's calls released
    together by a barrier; return every result (or exception) in order."""
    barrier = threading.Barrier(THREADS)
    results = [[None] * THREADS for _ in plan]

    def thread(index: int) -> None:
        try:
            for round_, merges in enumerate(plan):
                barrier.wait(timeout=30)
                source, target = merges[index]
                try:
                    results[round_][index] = work(index, source, target)
                except Exception as error:  # recorded, asserted on in the main thread
                    results[round_][index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a merge hung"
    return [r for merges in results for r in merges]


def totals() -> tuple[int, Decimal]:
    return Order.objects.count(), Order.objects.aggregate(s=Sum("amount"))["s"]


def assert_every_order_on_one_surviving_client(before, merged: int) -> None:
    assert totals() == before
    survivors = set(Client.objects.values_list("pk", flat=True))
    assert len(survivors) == CLIENTS - merged
    owners = set(Order.objects.values_list("client_id", flat=True))
    assert owners <= survivors
    assert not Order.objects.filter(client__isnull=True).exists()


def test_concurrent_opposite_merges_through_the_page_never_fail_or_lose_an_order():
    ids = seed()
    before = totals()
    staff = UserFactory(username="staff", is_staff=True, roles=[MANAGERS])
    browsers = []
    for _ in range(THREADS):
        browser = HttpClient()
        browser.force_login(staff)
        browsers.append(browser)
    rng = random.Random(4)
    plan = [opposite_pairs(ids, rng, THREADS) for _ in range(ROUNDS)]

    def merge_via_page(index, source, target):
        # The test Client re-raises a view's exception: a 500 fails this merge loudly.
        response = browsers[index].post("/clients/merge/", {"source": source, "target": target})
        return response.status_code, response.text

    results = run_in_threads(merge_via_page, plan)
    connections.close_all()

    assert len(results) == THREADS * ROUNDS == 24
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    merged = sum(1 for status, _ in results if status == 302)
    lost = [text for status, text in results if status == 200]
    assert merged + len(lost) == len(results)  # nothing but a merge or a form error
    assert merged >= 1
    for text in lost:
        assert "no longer exists" in text
        assert "deadlock" not in text.lower()
    assert_every_order_on_one_surviving_client(before, merged)


def test_many_concurrent_merges_through_the_service_never_deadlock():
    ids = seed()
    before = totals()
    rng = random.Random(17)
    plan = [opposite_pairs(ids, rng, THREADS) for _ in range(6)]  # 48 merges

    def merge(index, source, target):
        try:
            return client_merge(source_id=source, target_id=target).orders_moved
        except MergeError as error:
            return error  # the lost race: expected, and it must say so clearly

    results = run_in_threads(merge, plan)
    connections.close_all()

    assert len(results) == 48
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, MergeError)]
    assert unexpected == []  # no deadlock, no serialization failure, no integrity error
    for error in (r for r in results if isinstance(r, MergeError)):
        assert "no longer exists" in str(error)
    merged = sum(1 for r in results if isinstance(r, int))
    assert_every_order_on_one_surviving_client(before, merged)


def test_an_order_added_to_the_source_during_a_merge_is_never_silently_lost():
    """An order saved for the source while the merge runs either fails loudly or ends up on the
    kept client: never committed and then deleted with the source."""
    source, target = ClientFactory(), ClientFactory()
    OrderFactory(client=source)
    orders_moved, release = threading.Event(), threading.Event()
    original_delete = Client.delete
    outcome = {}

    def paused_delete(self, *args, **kwargs):
        orders_moved.set()  # the UPDATE has run; hold the merge open before the DELETE
        release.wait(timeout=10)
        return original_delete(self, *args, **kwargs)

    def merge():
        try:
            outcome["merge"] = client_merge(source_id=source.pk, target_id=target.pk)
        except Exception as error:
            outcome["merge"] = error
        finally:
            connection.close()

    def add_order():
        orders_moved.wait(timeout=10)
        try:
            with transaction.atomic():
                Order.objects.create(client_id=source.pk, title="Late", amount=Decimal("7.00"))
            outcome["order"] = "committed"
        except IntegrityError as error:
            outcome["order"] = error
        finally:
            connection.close()

    with mock.patch.object(Client, "delete", paused_delete):
        threads = [threading.Thread(target=merge), threading.Thread(target=add_order)]
        for t in threads:
            t.start()
        assert orders_moved.wait(timeout=10)
        time.sleep(0.5)  # let the new order reach its commit
        release.set()
        for t in threads:
            t.join(timeout=30)
    connections.close_all()

    assert outcome["merge"].orders_moved == 1
    if outcome["order"] == "committed":
        assert Order.objects.filter(title="Late", client_id=target.pk).exists()
    else:  # the expected case: the insert waited for the merge, then failed its foreign key
        assert isinstance(outcome["order"], IntegrityError)
        assert not Order.objects.filter(title="Late").exists()
    assert list(Client.objects.all()) == [target]
