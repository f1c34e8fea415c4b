"""The stored roll-ups (`orders_count`, `orders_total`, `open_orders_count`) after every write
path, against the reference aggregate `with_computed_totals()`, and `check_totals`."""

import logging
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from clients import triggers
from clients.models import Client, Order
from clients.services import client_merge, missing_triggers, totals_drift, totals_fix
from clients.tasks import check_totals
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

DONE, NEW = Order.Status.DONE, Order.Status.NEW


def stored(client: Client) -> tuple[int, Decimal, int]:
    client.refresh_from_db()
    return client.orders_count, client.orders_total, client.open_orders_count


def assert_exact() -> None:
    """Every client's stored roll-ups equal the reference aggregate."""
    assert totals_drift() == []


def test_the_reference_aggregate_counts_sums_and_open_orders():
    c = ClientFactory()
    OrderFactory(client=c, amount=Decimal("10.10"), status=NEW)
    OrderFactory(client=c, amount=Decimal("0.90"), status=DONE)
    OrderFactory(client=c, amount=Decimal("5.00"), status=Order.Status.IN_PROGRESS)
    idle = ClientFactory()
    rows = {r.pk: r for r in Client.objects.with_computed_totals()}
    row = rows[c.pk]
    computed = (row.computed_orders_count, row.computed_orders_total)
    assert (*computed, row.computed_open_orders_count) == (3, Decimal("16.00"), 2)
    empty = rows[idle.pk]
    assert (empty.computed_orders_count, empty.computed_orders_total) == (0, Decimal("0.00"))


def test_a_new_client_starts_at_zero():
    assert stored(ClientFactory()) == (0, Decimal("0.00"), 0)


def test_creating_orders_adds_to_the_client():
    c = ClientFactory()
    OrderFactory(client=c, amount=Decimal("10.10"))
    OrderFactory(client=c, amount=Decimal("0.20"), status=DONE)
    assert stored(c) == (2, Decimal("10.30"), 1)
    assert_exact()


def test_changing_amount_and_status_moves_the_totals():
    c = ClientFactory()
    order = OrderFactory(client=c, amount=Decimal("10.00"))
    order.amount = Decimal("12.34")
    order.save()
    assert stored(c) == (1, Decimal("12.34"), 1)
    order.status = DONE
    order.save(update_fields=["status"])
    assert stored(c) == (1, Decimal("12.34"), 0)
    order.title = "Renamed"  # a title edit changes no total
    order.save()
    assert stored(c) == (1, Decimal("12.34"), 0)
    assert_exact()


def test_reassigning_an_order_moves_it_between_clients():
    a, b = ClientFactory(), ClientFactory()
    order = OrderFactory(client=a, amount=Decimal("7.00"))
    order.client = b
    order.save()
    assert stored(a) == (0, Decimal("0.00"), 0)
    assert stored(b) == (1, Decimal("7.00"), 1)


def test_deleting_orders_subtracts():
    c = ClientFactory()
    keep = OrderFactory(client=c, amount=Decimal("1.00"))
    OrderFactory(client=c, amount=Decimal("2.00")).delete()
    assert stored(c) == (1, Decimal("1.00"), 1)
    keep.delete()
    assert stored(c) == (0, Decimal("0.00"), 0)


def test_bulk_paths_keep_the_totals():
    a, b = ClientFactory(), ClientFactory()
    Order.objects.bulk_create(
        [Order(client=a, title=f"o{i}", amount=Decimal("1.50"), status=NEW) for i in range(4)]
    )
    assert stored(a) == (4, Decimal("6.00"), 4)
    Order.objects.filter(client=a).update(status=DONE)
    assert stored(a) == (4, Decimal("6.00"), 0)
    Order.objects.filter(pk__in=Order.objects.filter(client=a).values("pk")[:2]).update(client=b)
    assert stored(a) == (2, Decimal("3.00"), 0)
    assert stored(b) == (2, Decimal("3.00"), 0)
    Order.objects.filter(client=b).delete()
    assert stored(b) == (0, Decimal("0.00"), 0)
    assert_exact()


def test_raw_sql_keeps_the_totals():
    c = ClientFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clients_order (client_id, title, amount, status, created_at) "
            "VALUES (%s, 'raw', 9.99, 'NEW', CURRENT_TIMESTAMP)",
            [c.pk],
        )
    assert stored(c) == (1, Decimal("9.99"), 1)


def test_merge_moves_the_totals_to_the_kept_client():
    source, target = ClientFactory(), ClientFactory()
    OrderFactory.create_batch(3, client=source, amount=Decimal("2.00"))
    OrderFactory(client=target, amount=Decimal("1.00"), status=DONE)
    client_merge(source_id=source.pk, target_id=target.pk)
    assert stored(target) == (4, Decimal("7.00"), 3)
    assert_exact()


def test_deleting_a_client_with_orders_leaves_no_drift():
    keep, gone = ClientFactory(), ClientFactory()
    OrderFactory(client=keep)
    OrderFactory.create_batch(3, client=gone)
    gone.delete()
    assert stored(keep) == (1, Decimal("100.00"), 1)
    assert_exact()


def test_sums_stay_exact_to_the_cent_over_many_small_amounts():
    # SQLite adds decimals as floats: 0.1 + 0.2 must still be 0.30, a thousand times over.
    c = ClientFactory()
    Order.objects.bulk_create(
        [Order(client=c, title="x", amount=Decimal("0.10")) for _ in range(500)]
        + [Order(client=c, title="y", amount=Decimal("0.20")) for _ in range(500)]
    )
    assert stored(c)[1] == Decimal("150.00")
    assert_exact()


def test_the_admin_inline_keeps_the_totals(admin_client):
    c = ClientFactory(name="Inline", email="inline@mail.test")
    prefix = "orders"
    data = {
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-0-title": "From the admin",
        f"{prefix}-0-amount": "42.00",
        f"{prefix}-0-status": "NEW",
    }
    response = admin_client.post(f"/admin/clients/client/{c.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert stored(c) == (1, Decimal("42.00"), 1)


def test_the_fields_cannot_be_set_from_a_form_or_the_api(staff_client):
    c = ClientFactory()
    response = staff_client.patch(
        f"/api/clients/{c.pk}/",
        {"orders_count": 99, "orders_total": "1.00"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert stored(c) == (0, Decimal("0.00"), 0)


# --- check_totals ------------------------------------------------------------------------------
def drift_one() -> Client:
    c = ClientFactory()
    OrderFactory(client=c, amount=Decimal("5.00"))
    # What a bug would do: a write that bypassed the triggers.
    Client.objects.filter(pk=c.pk).update(orders_count=3, orders_total=Decimal("1.00"))
    return c


def test_check_totals_says_so_when_there_is_no_drift(capsys):
    OrderFactory()
    call_command("check_totals")
    assert "No drift" in capsys.readouterr().out


def test_check_totals_reports_each_drift_and_fails():
    c = drift_one()
    with pytest.raises(CommandError, match="1 client"):
        call_command("check_totals")
    [item] = totals_drift()
    assert item.client_id == c.pk
    assert str(item) == (
        f"client #{c.pk}: orders_count stored 3, computed 1; "
        "orders_total stored 1.00, computed 5.00"
    )


def test_check_totals_fix_recomputes_the_drifted_clients(capsys):
    c = drift_one()
    untouched = OrderFactory().client
    call_command("check_totals", "--fix")
    out = capsys.readouterr().out
    assert f"client #{c.pk}" in out
    assert "Fixed 1 of 1" in out
    assert stored(c) == (1, Decimal("5.00"), 1)
    assert stored(untouched) == (1, Decimal("100.00"), 1)
    assert_exact()
    assert totals_fix([]) == 0


def test_check_totals_fails_when_the_triggers_are_missing():
    triggers.ROLLUP_TRIGGERS.uninstall(connection)  # undone with the test's transaction
    assert missing_triggers() == set(triggers.NAMES[connection.vendor])
    with pytest.raises(CommandError):
        call_command("check_totals")


def test_the_migration_installed_every_trigger():
    assert missing_triggers() == set()


def test_the_nightly_task_logs_drift_as_an_error_and_fixes_it(caplog):
    c = drift_one()
    with caplog.at_level(logging.ERROR, logger="clients.tasks"):
        result = check_totals.apply().get()
    assert result == {"drifted": 1, "fixed": 1, "missing_triggers": []}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"client #{c.pk}" in message for message in errors)
    assert stored(c) == (1, Decimal("5.00"), 1)


def test_the_nightly_task_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["check-totals"]
    assert entry["task"] == check_totals.name


# --- A client saved with the totals it read earlier -------------------------------------------
def test_saving_a_client_read_before_an_order_keeps_the_triggers_totals():
    c = ClientFactory()
    stale = Client.objects.get(pk=c.pk)  # 0 orders, as read
    OrderFactory(client=c, amount=Decimal("5.00"))
    stale.name = "Renamed"
    stale.save()
    assert stored(c) == (1, Decimal("5.00"), 1)
    assert Client.objects.get(pk=c.pk).name == "Renamed"
    assert_exact()


def test_the_edit_page_and_the_api_never_write_the_totals_back(member_client, staff_client):
    c = ClientFactory(name="Before", email="before@mail.test")
    OrderFactory(client=c, amount=Decimal("7.00"))
    form = {"name": "After", "email": c.email, "phone": ""}
    assert member_client.post(f"/clients/{c.pk}/edit/", form).status_code == 302
    response = staff_client.patch(
        f"/api/clients/{c.pk}/", {"name": "Again"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert stored(c) == (1, Decimal("7.00"), 1)
    OrderFactory(client=c).delete()  # below zero it would break the CHECK constraints
    assert_exact()
