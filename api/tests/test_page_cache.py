"""The API's client list caches each page with its totals, keyed by the list version and the
query's SQL (api.pagination.ClientTotalsPaginator): a repeated page runs no query, and what it
shows is never stale, never another filter's, ordering's or page's.

Data changes are wrapped in `django_capture_on_commit_callbacks(execute=True)`: the version is
bumped after commit, as in production.
"""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from api.tests.test_clients import tiny_png
from api.views import ClientViewSet
from clients.tests.factories import ClientFactory, OrderFactory
from clients.tests.test_list_cache import DEAD_REDIS
from core import cache as core_cache

pytestmark = pytest.mark.django_db

URL = "/api/clients/"


def names(api, url=URL):
    response = api.get(url)
    assert response.status_code == 200
    return [row["name"] for row in response.json()["results"]]


def test_a_renamed_client_shows_at_once(api, django_capture_on_commit_callbacks):
    ada = ClientFactory(name="Ada")
    assert names(api) == ["Ada"]
    with django_capture_on_commit_callbacks(execute=True):
        ada.name = "Ada Lovelace"
        ada.save()
    assert names(api) == ["Ada Lovelace"]


def test_a_new_order_updates_the_cached_totals(api, django_capture_on_commit_callbacks):
    ada = ClientFactory()
    OrderFactory(client=ada, amount=Decimal("10.00"))
    row = api.get(URL).json()["results"][0]
    assert (row["orders_count"], row["orders_total"]) == (1, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=ada, amount=Decimal("2.50"))
    row = api.get(URL).json()["results"][0]
    assert (row["orders_count"], row["orders_total"]) == (2, "12.50")


def test_pages_orderings_and_filters_each_have_their_own_entry(api):
    for name in ["Cy", "Al", "Bo"]:
        ClientFactory(name=name, vip=name == "Bo")
    newest_first = names(api)
    assert newest_first == ["Bo", "Al", "Cy"]
    assert names(api, f"{URL}?ordering=name") == ["Al", "Bo", "Cy"]
    assert names(api, f"{URL}?ordering=-name") == ["Cy", "Bo", "Al"]
    assert names(api, f"{URL}?vip=true") == ["Bo"]
    assert names(api, f"{URL}?page_size=2") == ["Bo", "Al"]
    assert names(api, f"{URL}?page_size=2&page=2") == ["Cy"]
    assert names(api, f"{URL}?page_size=1&page=2") == ["Al"]
    # And each again, from the cache.
    assert names(api) == newest_first
    assert names(api, f"{URL}?ordering=name") == ["Al", "Bo", "Cy"]
    assert names(api, f"{URL}?page_size=2&page=2") == ["Cy"]


def test_a_cached_page_builds_avatar_urls_for_each_request(api):
    ClientFactory(avatar=SimpleUploadedFile("a.png", tiny_png()))
    first = api.get(URL).json()["results"][0]["avatar"]
    assert first.startswith("http://testserver/media/avatars/")
    with CaptureQueriesContext(connection) as ctx:
        again = api.get(URL, HTTP_HOST="localhost").json()["results"][0]["avatar"]
    assert len(ctx.captured_queries) == 0  # served from the cache
    assert again == first.replace("http://testserver/", "http://localhost/")


def test_with_the_cache_down_the_page_comes_from_the_database(api, monkeypatch):
    # The throttles read the same cache and do not survive its loss (DRF's own code): off here.
    monkeypatch.setattr(ClientViewSet, "throttle_classes", [])
    OrderFactory(client=ClientFactory(name="Still Here"))
    core_cache.reset_bypass()
    try:
        with override_settings(CACHES=DEAD_REDIS):
            for _ in range(2):
                with CaptureQueriesContext(connection) as ctx:
                    response = api.get(URL)
                assert response.json()["results"][0]["orders_count"] == 1
                # 1. COUNT(*) of clients, 2. the page with its totals: nothing is cached.
                assert len(ctx.captured_queries) == 2
    finally:
        core_cache.reset_bypass()
