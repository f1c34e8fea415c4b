"""The API's deep pages seek from cached anchors (core.pagination) and list exactly what
OFFSET lists, for every ordering and filter; an order change retires the anchors of the
client lists too, since filters such as `active` depend on orders."""

import pytest

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stride_of_four(monkeypatch):
    from core import pagination

    monkeypatch.setattr(pagination, "ANCHOR_STRIDE", 4)


def ids(reader_api, url) -> list[int]:
    found, page = [], 1
    while True:
        response = reader_api.get(f"{url}{'&' if '?' in url else '?'}page={page}&page_size=3")
        assert response.status_code == 200
        found += [row["id"] for row in response.data["results"]]
        if not response.data["next"]:
            return found
        page += 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/clients/", lambda: Client.objects.all()),
        ("/api/clients/?ordering=name", lambda: Client.objects.order_by("name", "id")),
        ("/api/clients/?ordering=-email", lambda: Client.objects.order_by("-email", "id")),
        ("/api/orders/", lambda: Order.objects.all()),
        ("/api/orders/?ordering=amount", lambda: Order.objects.order_by("amount", "id")),
        ("/api/orders/?status=DONE", lambda: Order.objects.filter(status="DONE")),
    ],
)
def test_every_page_lists_what_the_database_orders(reader_api, url, expected):
    for i in range(14):
        OrderFactory(status="DONE" if i % 2 else "NEW", client=ClientFactory(name=f"C{i % 5}"))
    listed = ids(reader_api, url)
    assert listed == [row.pk for row in expected()]
    assert ids(reader_api, url) == listed  # again, from the cached anchors


def test_an_order_change_retires_the_anchors_of_a_filtered_client_list(
    reader_api, django_capture_on_commit_callbacks
):
    orders = [OrderFactory(status="NEW") for _ in range(14)]
    before = ids(reader_api, "/api/clients/?active=true")
    with django_capture_on_commit_callbacks(execute=True):
        for order in orders[-3:]:  # the newest clients' orders are done: no longer active
            order.status = "DONE"
            order.save()
    after = ids(reader_api, "/api/clients/?active=true")
    assert after == before[3:]
