from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    target = ClientFactory(name="Keep", phone="")
    source = ClientFactory(name="Dup", phone="+49 1", vip=True)
    OrderFactory.create_batch(2, client=target, amount=Decimal("10.00"))
    OrderFactory.create_batch(3, client=source, amount=Decimal("5.00"))
    return target, source


def merge(api, target_id, source_id):
    return api.post(f"/api/clients/{target_id}/merge/", {"source": source_id}, format="json")


def test_staff_merge_moves_orders_and_returns_the_kept_client(staff_api, pair):
    target, source = pair
    response = merge(staff_api, target.pk, source.pk)
    assert response.status_code == 200, response.content
    assert response.data["orders_moved"] == 3
    kept = response.data["client"]
    assert kept["id"] == target.pk
    assert kept["orders_count"] == 5
    assert kept["orders_total"] == "35.00"
    assert kept["vip"] is True
    assert kept["phone"] == "+49 1"
    assert not Client.objects.filter(pk=source.pk).exists()
    assert Order.objects.filter(client=target).count() == 5


@pytest.mark.parametrize("persona", ["api", "member_api"])
def test_guests_and_members_cannot_merge(request, persona, pair):
    target, source = pair
    response = merge(request.getfixturevalue(persona), target.pk, source.pk)
    assert response.status_code in (401, 403)
    assert Client.objects.filter(pk=source.pk).exists()


def test_staff_with_only_the_merge_permission_can(pair):
    from rest_framework.test import APIClient

    # A merge is a write: the permission alone is not enough through the API, staff status too.
    user = UserFactory(username="merger")
    user.user_permissions.add(Permission.objects.get(codename="merge_client"))
    api = APIClient()
    api.force_authenticate(user)
    target, source = pair
    assert merge(api, target.pk, source.pk).status_code == 403
    assert Client.objects.filter(pk=source.pk).exists()
    user.is_staff = True
    user.save()
    assert merge(api, target.pk, source.pk).status_code == 200


def test_merging_a_client_into_itself_is_a_400(staff_api, pair):
    target, _ = pair
    response = merge(staff_api, target.pk, target.pk)
    assert response.status_code == 400
    assert "source" in response.data


@pytest.mark.parametrize("body", [{}, {"source": "abc"}, {"source": 0}])
def test_bad_payload_is_a_400(staff_api, pair, body):
    target, _ = pair
    response = staff_api.post(f"/api/clients/{target.pk}/merge/", body, format="json")
    assert response.status_code == 400
    assert "source" in response.data


@pytest.mark.parametrize("which", ["source", "target"])
def test_a_missing_client_is_a_404_and_nothing_changes(staff_api, pair, which):
    target, source = pair
    ids = {"source": source.pk, "target": target.pk, which: 999_999}
    response = merge(staff_api, ids["target"], ids["source"])
    assert response.status_code == 404
    assert Order.objects.filter(client=source).count() == 3


def test_a_merge_kept_busy_by_other_writers_is_a_409_and_changes_nothing(
    staff_api, pair, monkeypatch
):
    from clients.services import MergeError

    def busy(**kwargs):
        raise MergeError("Someone is changing these clients' orders right now.", code="busy")

    monkeypatch.setattr("api.views.client_merge", busy)
    target, source = pair
    response = merge(staff_api, target.pk, source.pk)
    assert response.status_code == 409
    assert "right now" in response.json()["detail"]
    assert Client.objects.filter(pk=source.pk).exists()
