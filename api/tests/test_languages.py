"""The API in Russian: its messages follow Accept-Language; its URLs, field names and values
(amounts with a dot, statuses as codes) never do, so a script reads the same JSON in either."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from clients.models import Client
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def test_field_errors_are_in_the_callers_language(staff_api):
    ClientFactory(email="ada@mail.test")
    response = staff_api.post("/api/clients/", {"name": "", "email": "ada@mail.test"}, **RUSSIAN)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"name", "email"}  # the field names stay English
    assert body["email"] == ["Клиент с таким email уже существует."]
    assert "Это поле не может быть пустым." in body["name"]
    assert response["Content-Language"] == "ru"
    assert Client.objects.count() == 1


def test_the_json_is_the_same_in_both_languages(staff_api):
    ada = ClientFactory(name="Ада")
    OrderFactory(client=ada, amount=Decimal("20730.00"), title="Стол")
    english = staff_api.get(f"/api/clients/{ada.pk}/").json()
    staff_api.get("/api/clients/")  # a cached page in English must not answer in Russian
    russian = staff_api.get(f"/api/clients/{ada.pk}/", **RUSSIAN).json()
    assert russian == english
    assert russian["orders_total"] == "20730.00"
    orders = staff_api.get("/api/orders/", **RUSSIAN).json()["results"]
    assert orders[0]["amount"] == "20730.00"
    assert orders[0]["status"] == "NEW"


def test_permission_and_not_found_messages_are_translated(viewer):
    api_client = APIClient()
    assert api_client.get("/api/clients/", **RUSSIAN).json() == {
        "detail": "Учетные данные не были предоставлены."
    }
    api_client.force_login(viewer)
    response = api_client.delete(f"/api/clients/{ClientFactory().pk}/", **RUSSIAN)
    assert response.status_code == 403
    assert response.json() == {"detail": "У вас недостаточно прав для выполнения данного действия."}
