"""The API's client list caches each page with its totals, and its JSON, keyed by the list
version and the query's SQL (api.pagination.ClientTotalsPaginator, api.views.ClientViewSet.list):
a repeated page runs no query and no serializer, and what it shows is never stale, never
another filter's, ordering's, page's, host's or time zone's.

Data changes are wrapped in `django_capture_on_commit_callbacks(execute=True)`: the version is
bumped after commit, as in production.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api.serializers import ClientSerializer
from clients.models import Client
from clients.tests.factories import ClientFactory, OrderFactory, image_bytes
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

URL = "/api/clients/"


def names(reader_api, url=URL):
    response = reader_api.get(url)
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def test_a_renamed_client_shows_at_once(reader_api, django_capture_on_commit_callbacks):
    ada = ClientFactory(name="Ada")
    assert names(reader_api) == ["Ada"]
    with django_capture_on_commit_callbacks(execute=True):
        ada.name = "Ada Lovelace"
        ada.save()
    assert names(reader_api) == ["Ada Lovelace"]


def test_a_new_order_updates_the_cached_totals(reader_api, django_capture_on_commit_callbacks):
    ada = ClientFactory()
    OrderFactory(client=ada, amount=Decimal("10.00"))
    row = reader_api.get(URL).json()["results"][0]
    assert (row["orders_count"], row["orders_total"]) == (1, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=ada, amount=Decimal("2.50"))
    row = reader_api.get(URL).json()["results"][0]
    assert (row["orders_count"], row["orders_total"]) == (2, "12.50")


def test_pages_orderings_and_filters_each_have_their_own_entry(reader_api):
    for name in ["Cy", "Al", "Bo"]:
        ClientFactory(name=name, vip=name == "Bo")
    newest_first = names(reader_api)
    assert newest_first == ["Bo", "Al", "Cy"]
    assert names(reader_api, f"{URL}?ordering=name") == ["Al", "Bo", "Cy"]
    assert names(reader_api, f"{URL}?ordering=-name") == ["Cy", "Bo", "Al"]
    assert names(reader_api, f"{URL}?vip=true") == ["Bo"]
    assert names(reader_api, f"{URL}?page_size=2") == ["Bo", "Al"]
    assert names(reader_api, f"{URL}?page_size=2&page=2") == ["Cy"]
    assert names(reader_api, f"{URL}?page_size=1&page=2") == ["Al"]
    # And each again, from the cache.
    assert names(reader_api) == newest_first
    assert names(reader_api, f"{URL}?ordering=name") == ["Al", "Bo", "Cy"]
    assert names(reader_api, f"{URL}?page_size=2&page=2") == ["Cy"]


def test_a_cached_page_builds_avatar_urls_for_each_request(reader_api):
    ClientFactory(avatar=SimpleUploadedFile("a.png", image_bytes()))
    first = reader_api.get(URL).json()["results"][0]["avatar"]
    assert first.startswith("http://testserver/media/avatars/")
    with CaptureQueriesContext(connection) as ctx:
        again = reader_api.get(URL, HTTP_HOST="localhost").json()["results"][0]["avatar"]
    # 1. the token with its user (its permissions are cached, core.auth), 2. the page's one
    # indexed query: another host is another JSON entry (the count is still cached).
    assert len(ctx.captured_queries) == 2
    assert not any(q["sql"].startswith("SELECT COUNT(*)") for q in ctx.captured_queries)
    assert again == first.replace("http://testserver/", "http://localhost/")


def test_with_the_cache_down_the_page_comes_from_the_database(reader_api):
    # The throttles stay on: the backend answers their reads as misses, so the call passes.
    OrderFactory(client=ClientFactory(name="Still Here"))
    with override_settings(CACHES=DEAD_REDIS):
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                response = reader_api.get(URL)
            assert response.json()["results"][0]["orders_count"] == 1
            # 1. the token with its user, 2.-3. the user's and its groups' permissions,
            # 4. COUNT(*) of clients, 5. the page with its totals: nothing is cached.
            assert len(ctx.captured_queries) == 5


def test_a_repeated_page_is_not_serialized_again(reader_api, monkeypatch):
    OrderFactory(client=ClientFactory(name="Ada"), amount=Decimal("3.00"))
    first = reader_api.get(URL).json()
    calls = []
    original = ClientSerializer.to_representation

    def counting(self, instance):
        calls.append(instance.pk)
        return original(self, instance)

    monkeypatch.setattr(ClientSerializer, "to_representation", counting)
    assert reader_api.get(URL).json() == first
    assert calls == []
    # Another page size is another page: serialized once.
    assert reader_api.get(f"{URL}?page_size=5").json()["results"] == first["results"]
    assert len(calls) == 1


def test_each_time_zone_gets_its_own_serialized_page(reader_api):
    ada = ClientFactory()
    Client.objects.filter(pk=ada.pk).update(created_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    with override_settings(TIME_ZONE="UTC"):
        assert (
            reader_api.get(URL).json()["results"][0]["created_at"].startswith("2026-01-01T23:30:00")
        )
    with override_settings(TIME_ZONE="Asia/Tokyo"):
        assert reader_api.get(URL).json()["results"][0]["created_at"] == "2026-01-02T08:30:00+09:00"


def test_the_serialized_page_is_the_same_for_guests_and_users(reader_api, member_api):
    ClientFactory(name="Shared")
    assert reader_api.get(URL).json() == member_api.get(URL).json()
