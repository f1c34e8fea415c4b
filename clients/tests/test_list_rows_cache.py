"""The client list's rows and page links are rendered once per list version and served as
cached HTML (clients.cache.client_list_page): the same bytes as a fresh render, never stale,
never another time zone's dates, and rendered afresh when the cache is down.

Data changes are wrapped in `django_capture_on_commit_callbacks(execute=True)`: the list's
version is bumped after commit, as in production.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from clients.models import Client
from clients.tests.factories import ClientFactory, OrderFactory
from core.testing import DEAD_REDIS

pytestmark = pytest.mark.django_db

LIST = "/clients/"
ROWS = "clients/client_rows.html"
PAGINATION = "includes/pagination.html"


def get(http, url=LIST):
    response = http.get(url)
    assert response.status_code == 200
    return response


def rendered(response) -> list[str]:
    return [t.name for t in response.templates]


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_second_request_serves_the_rows_from_the_cache_with_the_same_html(member_client):
    OrderFactory(amount=Decimal("1234.50"), client=ClientFactory(name="Ada Lovelace", vip=True))
    first = get(member_client)
    assert ROWS in rendered(first)
    second = get(member_client)
    assert ROWS not in rendered(second)
    assert PAGINATION not in rendered(second)
    assert without_csrf(second.text) == without_csrf(first.text)
    assert "Ada Lovelace" in second.text
    assert "1,234.50" in second.text


def test_a_change_re_renders_the_rows_at_once(member_client, django_capture_on_commit_callbacks):
    client = ClientFactory(name="Old Name")
    assert "Old Name" in get(member_client).text
    with django_capture_on_commit_callbacks(execute=True):
        client.name = "New Name"
        client.save()
    response = get(member_client)
    assert ROWS in rendered(response)
    assert "New Name" in response.text
    assert "Old Name" not in response.text


def test_a_new_order_updates_the_cached_totals(member_client, django_capture_on_commit_callbacks):
    client = ClientFactory()
    assert 'data-field="orders_count">0<' in get(member_client).text
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(client=client, amount=Decimal("10.00"))
    response = get(member_client)
    assert 'data-field="orders_count">1<' in response.text
    assert 'data-field="orders_total">10.00<' in response.text


def test_each_time_zone_gets_its_own_rendered_rows(member_client):
    client = ClientFactory()
    # A plain update sends no event: the list's version stays the same for both requests.
    Client.objects.filter(pk=client.pk).update(created_at=datetime(2026, 1, 1, 23, 30, tzinfo=UTC))
    with override_settings(TIME_ZONE="UTC"):
        assert "Jan 1, 2026" in get(member_client).text
    with override_settings(TIME_ZONE="Asia/Tokyo"):
        response = get(member_client)
        assert "Jan 2, 2026" in response.text
        assert "Jan 1, 2026" not in response.text


def test_the_rows_are_the_same_for_every_user_who_may_edit(client, sales, staff):
    # One cache entry serves everyone with the same say in the rows (their Edit links): a
    # sales person and a manager share it; what else differs is outside the rows.
    ClientFactory(name="Shared Row")
    client.force_login(sales)
    assert "Merge duplicates" not in get(client).text
    as_staff = HttpClient()
    as_staff.force_login(staff)
    response = get(as_staff)
    assert ROWS not in rendered(response)
    assert "Shared Row" in response.text
    assert "Merge duplicates" in response.text  # the manager's button, outside the rows


def test_a_viewer_gets_rows_without_edit_links(client, viewer, member_client):
    c = ClientFactory(name="Read Only")
    assert f'href="/clients/{c.pk}/edit/"' in get(member_client).text  # cached for editors
    client.force_login(viewer)
    response = get(client)
    assert "Read Only" in response.text
    assert f'href="/clients/{c.pk}/edit/"' not in response.text


def test_with_the_cache_down_the_rows_are_rendered_every_time(member_client):
    ClientFactory(name="Still Rendered")
    with override_settings(CACHES=DEAD_REDIS):
        for _ in range(2):
            response = get(member_client)
            assert ROWS in rendered(response)
            assert "Still Rendered" in response.text


def test_the_cached_page_links_belong_to_their_page_and_search(member_client):
    for i in range(25):
        ClientFactory(name=f"Acme {i:02}")
    ClientFactory(name="Zed")
    for _ in range(2):  # rendered, then from the cache
        page2 = get(member_client, f"{LIST}?q=acme&page=2").text
        assert 'href="?q=acme&amp;page=1" rel="prev"' in page2
        assert 'href="?q=acme&amp;page=3" rel="next"' in page2
        assert '<a aria-current="page">2</a>' in page2
        page1 = get(member_client).text
        assert 'href="?page=2" rel="next"' in page1
        assert 'rel="prev"' not in page1
        assert '<a aria-current="page">1</a>' in page1
    assert 'rel="next"' not in get(member_client, f"{LIST}?q=zed").text
