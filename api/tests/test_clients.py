from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory, image_bytes, upload

pytestmark = pytest.mark.django_db


def test_client_fields_with_totals(reader_api):
    ada = ClientFactory(name="Ada", email="ada@mail.test", phone="+49 1")
    OrderFactory(client=ada, amount=Decimal("10.50"))
    OrderFactory(client=ada, amount=Decimal("2.25"), status=Order.Status.DONE)
    data = reader_api.get(f"/api/clients/{ada.pk}/").json()
    assert set(data) == {
        "id",
        "name",
        "email",
        "phone",
        "vip",
        "avatar",
        "created_at",
        "orders_count",
        "orders_total",
    }
    assert data["id"] == ada.pk
    assert data["email"] == "ada@mail.test"
    assert data["vip"] is False
    assert data["avatar"] is None
    assert data["orders_count"] == 2
    assert data["orders_total"] == "12.75"


def test_list_totals_are_zero_for_a_client_without_orders_and_never_double_counted(reader_api):
    ada, bob = ClientFactory(name="Ada"), ClientFactory(name="Bob")
    for _ in range(3):
        OrderFactory(client=ada, amount=Decimal("1.10"))
    rows = {row["name"]: row for row in reader_api.get("/api/clients/").json()["results"]}
    assert (rows["Ada"]["orders_count"], rows["Ada"]["orders_total"]) == (3, "3.30")
    assert (rows["Bob"]["orders_count"], rows["Bob"]["orders_total"]) == (0, "0.00")
    assert bob.pk == rows["Bob"]["id"]


def test_avatar_is_an_absolute_url(reader_api):
    ada = ClientFactory(avatar=upload(image_bytes(), "a.png"))
    url = reader_api.get(f"/api/clients/{ada.pk}/").json()["avatar"]
    assert url.startswith("http://testserver/media/avatars/")
    assert url.endswith(".png")


def test_staff_uploads_and_removes_an_avatar(staff_api):
    ada = ClientFactory()
    avatar = upload(image_bytes(), "me.png")
    response = staff_api.patch(f"/api/clients/{ada.pk}/", {"avatar": avatar}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["avatar"].startswith("http://testserver/media/avatars/")
    response = staff_api.patch(f"/api/clients/{ada.pk}/", {"avatar": None})
    assert response.status_code == 200
    assert response.json()["avatar"] is None
    ada.refresh_from_db()
    assert not ada.avatar


def test_avatar_that_is_not_an_image_is_a_field_error(staff_api):
    ada = ClientFactory()
    junk = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")
    response = staff_api.patch(f"/api/clients/{ada.pk}/", {"avatar": junk}, format="multipart")
    assert response.status_code == 400
    assert "avatar" in response.json()


def test_create_lowercases_the_email_and_starts_with_zero_totals(staff_api):
    response = staff_api.post("/api/clients/", {"name": "Ada", "email": " Ada@Mail.TEST "})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["email"] == "ada@mail.test"
    assert (data["orders_count"], data["orders_total"]) == (0, "0.00")
    assert Client.objects.get().email == "ada@mail.test"


def test_create_at_the_vip_domain_answers_vip(staff_api):
    response = staff_api.post("/api/clients/", {"name": "Boss", "email": "boss@company.com"})
    assert response.status_code == 201
    assert response.json()["vip"] is True


def test_update_keeps_the_totals_in_the_response(staff_api):
    ada = ClientFactory(name="Ada")
    OrderFactory(client=ada, amount=Decimal("5.00"))
    response = staff_api.patch(f"/api/clients/{ada.pk}/", {"name": "Ada L."})
    assert response.status_code == 200
    assert response.json()["name"] == "Ada L."
    assert (response.json()["orders_count"], response.json()["orders_total"]) == (1, "5.00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "email": "someone@example.com"}, "email"),
        ({"name": "X", "email": "someone@mail.example.com"}, "email"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "", "email": "x@mail.test"}, "name"),
        ({"email": "x@mail.test"}, "name"),
        ({"name": "X", "email": "x@mail.test", "phone": "call me"}, "phone"),
        ({"name": "X", "email": "x@mail.test", "vip": "maybe"}, "vip"),
    ],
)
def test_invalid_client_is_a_field_error_and_nothing_is_saved(staff_api, payload, field):
    response = staff_api.post("/api/clients/", payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not Client.objects.exists()


@pytest.mark.parametrize("email", ["ada@mail.test", "ADA@Mail.Test"])
def test_duplicate_email_in_any_case_is_a_field_error(staff_api, email):
    ClientFactory(email="ada@mail.test")
    response = staff_api.post("/api/clients/", {"name": "Ada 2", "email": email})
    assert response.status_code == 400
    assert response.json() == {"email": ["A client with this email already exists."]}
    assert Client.objects.count() == 1


def test_update_to_another_clients_email_in_any_case_is_a_field_error(staff_api):
    ClientFactory(email="ada@mail.test")
    bob = ClientFactory(email="bob@mail.test")
    response = staff_api.patch(f"/api/clients/{bob.pk}/", {"email": "Ada@MAIL.test"})
    assert response.status_code == 400
    assert "email" in response.json()
    # Keeping one's own address is no conflict.
    assert staff_api.patch(f"/api/clients/{bob.pk}/", {"email": "BOB@mail.test"}).status_code == 200


def test_a_lost_race_on_the_unique_email_is_still_a_400(staff_api, monkeypatch):
    # Simulate two requests that both passed the uniqueness check: the database refuses.
    from rest_framework.validators import UniqueValidator

    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)
    ClientFactory(email="ada@mail.test")
    response = staff_api.post("/api/clients/", {"name": "Ada 2", "email": "ada@mail.test"})
    assert response.status_code == 400
    assert response.json() == {"email": ["A client with this email already exists."]}
    assert Client.objects.count() == 1


def test_delete_removes_the_client_and_its_orders(staff_api):
    ada = ClientFactory()
    OrderFactory(client=ada)
    assert staff_api.delete(f"/api/clients/{ada.pk}/").status_code == 204
    assert not Client.objects.exists()
    assert not Order.objects.exists()


def test_unknown_client_is_a_json_404(reader_api):
    response = reader_api.get("/api/clients/999999/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.parametrize("rows", [2, 50])
def test_list_runs_a_constant_number_of_queries(reader_api, rows):
    for _ in range(rows):
        OrderFactory(client=ClientFactory())
    with CaptureQueriesContext(connection) as ctx:
        response = reader_api.get("/api/clients/?page_size=100")
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. COUNT(*) of clients (the paginator)
    # 5. the page: its clients with their stored totals, one indexed query (no GROUP BY)
    assert len(ctx.captured_queries) == 5, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.services  # SQLite sums decimals as floats: 15 digits are beyond it
def test_a_total_wider_than_any_single_amount_is_shown_exactly(reader_api):
    ada = ClientFactory()
    big = Decimal("9999999999.99")  # the largest amount an order can hold (12 digits)
    # 1,001 of them: 15 digits, well within the stored roll-up (Decimal(18, 2)).
    Order.objects.bulk_create([Order(client=ada, title="Big", amount=big) for _ in range(1001)])
    expected = str(big * 1001)
    assert reader_api.get(f"/api/clients/{ada.pk}/").json()["orders_total"] == expected
    assert reader_api.get("/api/clients/").json()["results"][0]["orders_total"] == expected


def test_detail_is_one_query(reader_api):
    ada = ClientFactory()
    OrderFactory.create_batch(3, client=ada)
    with CaptureQueriesContext(connection) as ctx:
        assert reader_api.get(f"/api/clients/{ada.pk}/").json()["orders_count"] == 3
    # 1. the token with its user, 2. the user's permissions, 3. its groups' permissions
    # 4. the client by id, its totals stored on it
    assert len(ctx.captured_queries) == 4
