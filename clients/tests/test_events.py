import contextlib

import pytest
from django.db import transaction

from clients import events
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def on_changed(**kwargs):
        calls.append(("changed", None))

    def on_order(order_id, **kwargs):
        calls.append(("order", order_id))

    events.clients_changed.connect(on_changed)
    events.order_created.connect(on_order)
    yield calls
    events.clients_changed.disconnect(on_changed)
    events.order_created.disconnect(on_order)


def test_events_wait_for_the_commit(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = OrderFactory()
    assert received == []
    for callback in callbacks:
        callback()
    assert ("order", order.pk) in received
    assert ("changed", None) in received


def test_update_and_delete_are_changes_but_not_new_orders(
    received, django_capture_on_commit_callbacks
):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.name = "New"
        client.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.delete()
    assert received == [("changed", None), ("changed", None)]


def test_a_transaction_sends_each_event_once(received, django_capture_on_commit_callbacks):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.name = "New"
        client.save()
        orders = [OrderFactory(client=client) for _ in range(3)]
        client.delete()
    # One callback for the whole transaction: one cache bump, each new order announced once.
    assert len(callbacks) == 1
    assert received.count(("changed", None)) == 1
    assert sorted(order_id for kind, order_id in received if kind == "order") == sorted(
        order.pk for order in orders
    )


def test_a_failing_receiver_is_logged_and_does_not_break_the_save(
    django_capture_on_commit_callbacks, caplog
):
    def broken(**kwargs):
        raise ConnectionError("redis is down")

    events.order_created.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = OrderFactory()
    finally:
        events.order_created.disconnect(broken)
    assert order.pk
    assert "event receiver" in caplog.text
    assert "redis is down" in caplog.text


def test_a_rolled_back_savepoint_takes_its_events_with_it(
    received, django_capture_on_commit_callbacks
):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        kept = OrderFactory(client=client)
        with contextlib.suppress(RuntimeError), transaction.atomic():
            OrderFactory(client=client)
            raise RuntimeError("undone")
    assert [order_id for kind, order_id in received if kind == "order"] == [kept.pk]


def test_a_batch_does_not_keep_its_connection_alive():
    import gc
    import weakref

    class Connection:  # what the batch holds of it
        run_on_commit: list = []

    connection = Connection()
    # As send_after_commit leaves it after a rollback: the batch stays filed under its
    # connection, which only the (weak) key refers to.
    events._batches[connection] = {(): events._Batch(connection)}
    alive = weakref.ref(connection)
    del connection
    gc.collect()
    assert alive() is None
