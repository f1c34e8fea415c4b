"""Dates on the pages in each language's own form (mini_crm/formats/): "Dec 1, 2026" in English,
"1 дек. 2026 г." in Russian, with the months in the genitive Russian dates use."""

import datetime as dt

import pytest

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def ada(db):
    ada = ClientFactory(name="Ада")
    order = OrderFactory(client=ada, title="Стол")
    Client.objects.filter(pk=ada.pk).update(created_at=NOON)
    Order.objects.filter(pk=order.pk).update(created_at=NOON.replace(month=5))
    return ada


@pytest.mark.parametrize("url", ["/clients/", "/clients/{pk}/"])
def test_a_client_date_in_each_language(member_client, ada, url):
    url = url.format(pk=ada.pk)
    assert "Dec 1, 2026" in member_client.get(url, HTTP_ACCEPT_LANGUAGE="en").text
    russian = member_client.get(url, HTTP_ACCEPT_LANGUAGE="ru").text
    assert "1 дек. 2026 г." in russian
    assert "Dec" not in russian


def test_an_order_date_takes_the_genitive_month(member_client, ada):
    page = member_client.get(f"/clients/{ada.pk}/", HTTP_ACCEPT_LANGUAGE="ru").text
    assert "1 мая 2026 г." in page  # not "1 Май"
    assert "May 1, 2026" in member_client.get(f"/clients/{ada.pk}/", HTTP_ACCEPT_LANGUAGE="en").text
