"""The API's delete is the trash's; `POST /api/clients/<id>/restore/` brings a client back
(issue 17)."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from clients.models import Client, Order, TrashedClient
from clients.services import client_trash
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_delete_moves_to_the_trash_and_restore_brings_it_back(staff_api):
    client = ClientFactory(name="Ada")
    orders = OrderFactory.create_batch(2, client=client)
    assert staff_api.delete(f"/api/clients/{client.pk}/").status_code == 204
    assert staff_api.get(f"/api/clients/{client.pk}/").status_code == 404
    assert staff_api.get("/api/clients/").json()["results"] == []
    assert staff_api.get("/api/orders/").json()["results"] == []
    assert TrashedClient.objects.get().client_id == client.pk

    response = staff_api.post(f"/api/clients/{client.pk}/restore/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == client.pk
    assert body["name"] == "Ada"
    assert body["orders_count"] == 2
    assert set(Order.objects.values_list("pk", flat=True)) == {o.pk for o in orders}


def test_a_restore_of_what_is_not_in_the_trash_is_a_404(staff_api):
    assert staff_api.post("/api/clients/424242/restore/").status_code == 404
    assert staff_api.post("/api/clients/abc/restore/").status_code == 404


def test_a_taken_email_is_a_409_naming_the_live_client_then_into_merges(staff_api, staff):
    client = ClientFactory(email="ada@mail.test")
    OrderFactory(client=client)
    client_trash(client_id=client.pk, user=staff)
    taken = ClientFactory(email="ada@mail.test")

    conflict = staff_api.post(f"/api/clients/{client.pk}/restore/")

    assert conflict.status_code == 409
    assert conflict.json()["code"] == "email_taken"
    assert conflict.json()["client"] == taken.pk
    merged = staff_api.post(f"/api/clients/{client.pk}/restore/", {"into": taken.pk})
    assert merged.status_code == 200
    assert merged.json()["id"] == taken.pk
    assert merged.json()["orders_count"] == 1
    assert not TrashedClient.objects.exists()


@pytest.mark.parametrize("into", ["x", 0, -3])
def test_a_junk_into_is_a_400_and_nothing_changes(staff_api, staff, into):
    client = ClientFactory()
    client_trash(client_id=client.pk, user=staff)
    response = staff_api.post(f"/api/clients/{client.pk}/restore/", {"into": into})
    assert response.status_code == 400
    assert "into" in response.json()
    assert TrashedClient.objects.exists()


def test_restore_needs_staff_and_the_delete_permission(member_api, staff):
    client = ClientFactory()
    client_trash(client_id=client.pk, user=staff)
    # A manager who is not staff (API writes need staff), a staff member of Sales.
    assert member_api.post(f"/api/clients/{client.pk}/restore/").status_code == 403
    seller = APIClient()
    seller.force_login(UserFactory(is_staff=True, roles=["Sales"]))
    assert seller.post(f"/api/clients/{client.pk}/restore/").status_code == 403
    assert seller.delete(f"/api/clients/{ClientFactory().pk}/").status_code == 403
    assert APIClient().post(f"/api/clients/{client.pk}/restore/").status_code in (401, 403)
    assert TrashedClient.objects.count() == 1
    assert Client.objects.count() == 1


def test_merging_into_needs_the_merge_permission(staff):
    client = ClientFactory(email="ada@mail.test")
    client_trash(client_id=client.pk, user=staff)
    taken = ClientFactory(email="ada@mail.test")
    deleter = UserFactory(is_staff=True)
    deleter.user_permissions.add(Permission.objects.get(codename="delete_client"))
    api = APIClient()
    api.force_login(deleter)
    assert api.post(f"/api/clients/{client.pk}/restore/", {"into": taken.pk}).status_code == 403
    assert TrashedClient.objects.exists()


def test_a_delete_racing_another_is_a_404_not_a_500(staff_api, monkeypatch):
    from api import views

    client = ClientFactory()

    def gone(**kwargs):
        from clients.services import TrashError

        raise TrashError("gone", code="not_found")

    monkeypatch.setattr(views, "client_trash", gone)
    assert staff_api.delete(f"/api/clients/{client.pk}/").status_code == 404


@pytest.mark.parametrize("junk", ["²", "１２", "1e3"])
def test_ids_that_only_look_like_numbers_are_a_404(staff_api, junk):
    assert staff_api.post(f"/api/clients/{junk}/restore/").status_code == 404
    assert staff_api.post(f"/api/clients/{junk}/merge/", {"source": 1}).status_code == 404
