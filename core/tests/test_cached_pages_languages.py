"""The cached parts of pages are kept per language and time zone (Deliver 6 of issue 18): a
page cached for an English reader in Berlin never answers a Russian one or one in Tokyo."""

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import Client
from clients.tests.factories import ClientFactory, OrderFactory
from core.models import Profile

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def ada(db):
    ada = ClientFactory(name="Ада")
    OrderFactory(client=ada, amount=Decimal("20730.00"))
    return ada


@pytest.mark.parametrize(
    ("url", "english", "russian"),
    [
        ("/clients/", "20,730.00", "20\xa0730,00"),
        ("/dashboard/", "20,730.00", "20\xa0730,00"),
        ("/orders/board/", "20,730.00", "20\xa0730,00"),
        ("/orders/", "20,730.00", "20\xa0730,00"),
    ],
)
def test_a_page_cached_in_english_is_not_served_in_russian(
    member_client, ada, url, english, russian
):
    for _ in range(2):  # the second is served from the cache
        first = member_client.get(url, **ENGLISH).text
        assert english in first
        assert russian not in first
    second = member_client.get(url, **RUSSIAN).text
    assert russian in second
    assert english not in second


def test_a_list_cached_in_one_time_zone_is_not_served_in_another(client, member, ada):
    Client.objects.filter(pk=ada.pk).update(
        created_at=dt.datetime(2026, 12, 1, 22, 30, tzinfo=dt.UTC)  # Dec 2 in Tokyo
    )
    client.force_login(member)
    client.get("/clients/", **ENGLISH)
    assert "Dec 1, 2026" in client.get("/clients/", **ENGLISH).text

    Profile.objects.create(user=member, time_zone="Asia/Tokyo")
    client.force_login(member)  # the profile's zone comes with the session at login
    page = client.get("/clients/", **ENGLISH).text
    assert "Dec 2, 2026" in page
    assert "Dec 1, 2026" not in page
