"""/api/stats/: the JSON shape, who may read it, its schema, and that it is the page's data."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db
URL = "/api/stats/"
KEYS = {
    "time_zone", "clients", "new_clients", "orders", "orders_by_status", "this_month",
    "last_month", "change", "months", "top_clients",
}  # fmt: skip


@pytest.fixture
def data(db):
    vip = ClientFactory(vip=True, name="Vip Co")
    OrderFactory(client=vip, amount=Decimal("300.10"))
    OrderFactory(client=vip, amount=Decimal("0.90"), status=Order.Status.DONE)
    ClientFactory()
    return vip


def test_the_json_shape(data, reader_api):
    response = reader_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == KEYS
    assert body["clients"] == {"total": 2, "vip": 1, "active": 1}
    assert body["orders"] == {"orders_count": 2, "amount": "301.00"}
    assert body["orders_by_status"] == [
        {"status": "NEW", "label": "New", "orders_count": 1, "amount": "300.10"},
        {"status": "IN_PROGRESS", "label": "In progress", "orders_count": 0, "amount": "0.00"},
        {"status": "DONE", "label": "Done", "orders_count": 1, "amount": "0.90"},
    ]
    assert len(body["months"]) == 12
    assert len(body["new_clients"]) == 12
    assert body["months"][-1] == {**body["this_month"], "label": body["months"][-1]["label"]}
    assert body["this_month"]["orders_count"] == 2
    assert body["this_month"]["amount"] == "301.00"
    assert body["change"] == {"orders_count_pct": None, "amount_pct": None}
    assert body["new_clients"][-1]["clients_count"] == 2
    assert body["top_clients"] == [
        {
            "id": data.pk,
            "name": "Vip Co",
            "url": f"/clients/{data.pk}/",
            "orders_count": 2,
            "orders_total": "301.00",
        }
    ]


@pytest.mark.parametrize("persona", ["member", "staff", "sales", "viewer"])
def test_every_role_reads_it(persona, request):
    api = APIClient()
    api.force_login(request.getfixturevalue(persona))
    assert api.get(URL).status_code == 200


def test_a_guest_gets_401(api):
    assert api.get(URL).status_code == 401


def test_a_user_without_a_role_gets_403(api, nobody):
    api.force_login(nobody)
    assert api.get(URL).status_code == 403


def test_it_is_read_only(member_api):
    assert member_api.post(URL, {}).status_code == 405


def test_public_read_opens_it_to_guests(api, settings, data):
    settings.API_PUBLIC_READ = True
    body = api.get(URL).json()
    assert body["clients"]["total"] == 2
    assert body["top_clients"][0]["id"] == data.pk


def test_the_page_embeds_the_same_figures(data, member_client, member_api):
    page = member_client.get("/dashboard/").context["stats"]
    assert member_api.get(URL).json() == page


def test_the_schema_documents_it(member_api):
    import yaml

    schema = yaml.safe_load(member_api.get("/api/schema/").content)
    operation = schema["paths"]["/api/stats/"]["get"]
    assert operation["operationId"] == "stats_retrieve"
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(component["properties"]) == KEYS
