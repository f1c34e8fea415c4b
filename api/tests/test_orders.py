from decimal import Decimal

import pytest

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_order_fields(reader_api):
    order = OrderFactory(title="Laptop", amount=Decimal("1299.90"), status=Order.Status.DONE)
    data = reader_api.get(f"/api/orders/{order.pk}/").json()
    assert set(data) == {"id", "client", "title", "amount", "status", "created_at"}
    assert data["client"] == order.client_id
    assert data["amount"] == "1299.90"
    assert data["status"] == "DONE"
    assert data["title"] == "Laptop"


def test_staff_creates_an_order_with_defaults(staff_api):
    ada = ClientFactory()
    response = staff_api.post(
        "/api/orders/", {"client": ada.pk, "title": "Desk", "amount": "250.5"}
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["client"], data["amount"], data["status"]) == (ada.pk, "250.50", "NEW")


def test_staff_changes_the_status(staff_api):
    order = OrderFactory()
    response = staff_api.patch(f"/api/orders/{order.pk}/", {"status": "IN_PROGRESS"})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "junk"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "12345678901.00"}, "amount"),
        ({"amount": None}, "amount"),
        ({"title": ""}, "title"),
        ({"status": "NOPE"}, "status"),
        ({"client": 999999}, "client"),
        ({"client": 2**70}, "client"),
        ({"client": "abc"}, "client"),
        ({"client": None}, "client"),
    ],
)
def test_invalid_order_is_a_field_error_and_nothing_is_saved(staff_api, changes, field):
    payload = {"client": ClientFactory().pk, "title": "Desk", "amount": "10.00", **changes}
    response = staff_api.post("/api/orders/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Order.objects.exists()


def test_delete_removes_only_the_order(staff_api):
    order = OrderFactory()
    assert staff_api.delete(f"/api/orders/{order.pk}/").status_code == 204
    assert not Order.objects.exists()
    assert order.client.__class__.objects.filter(pk=order.client_id).exists()


@pytest.mark.parametrize("rows", [2, 50])
def test_list_runs_a_constant_number_of_queries(reader_api, rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    OrderFactory.create_batch(rows)
    with CaptureQueriesContext(connection) as ctx:
        response = reader_api.get("/api/orders/?page_size=100")
    assert len(response.json()["results"]) == rows
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. COUNT(*) of orders (the paginator)
    # 5. the page of orders (`client` is the id column: no join, no per-row client query)
    assert len(ctx.captured_queries) == 5, [q["sql"] for q in ctx.captured_queries]
