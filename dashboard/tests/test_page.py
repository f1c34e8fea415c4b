"""/dashboard/: who sees what, the figures, the landing after login, the empty database."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from clients.models import Order
from clients.permissions import VIEW_CLIENT, VIEW_ORDER
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/dashboard/"


def with_permissions(client, *perms):
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.set(
        Permission.objects.filter(codename__in=[p.split(".")[1] for p in perms])
    )
    client.force_login(user)
    return client


@pytest.mark.parametrize("persona", ["member", "staff", "sales", "viewer"])
def test_every_role_sees_the_whole_dashboard(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    stats = response.context["stats"]
    assert all(value is not None for value in stats.values())
    assert b'id="chart-amount"' in response.content
    assert b'id="chart-clients"' in response.content
    assert b'data-live-path="/ws/clients/"' in response.content


def test_nobody_gets_the_403_page(client, nobody):
    client.force_login(nobody)
    response = client.get(URL)
    assert response.status_code == 403
    assert b"ask" in response.content.lower()


def test_a_guest_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_with_only_view_client_the_client_half_shows(client):
    with_permissions(client, VIEW_CLIENT)
    response = client.get(URL)
    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats["clients"] is not None
    assert stats["new_clients"] is not None
    assert stats["months"] is None
    assert stats["orders_by_status"] is None
    assert stats["top_clients"] is None
    assert b"chart-amount" not in response.content
    # The socket carries orders, which this user may not see: the page does not connect.
    assert b"data-live-path" not in response.content


def test_with_only_view_order_the_order_half_shows(client):
    with_permissions(client, VIEW_ORDER)
    stats = client.get(URL).context["stats"]
    assert stats["clients"] is None
    assert stats["top_clients"] is None
    assert stats["months"] is not None
    assert stats["this_month"] is not None


def test_login_and_the_home_page_lead_to_the_dashboard(client, member):
    from django.conf import settings

    assert reverse(settings.LOGIN_REDIRECT_URL) == URL
    client.force_login(member)
    assert client.get("/").url == URL


def test_the_main_navigation_starts_with_the_dashboard(member_client):
    html = member_client.get("/clients/").content.decode()
    nav = html[html.index('aria-label="Main"') :]
    assert nav.index('href="/dashboard/"') < nav.index('href="/clients/"')


def test_an_empty_database_shows_zeros_and_says_so(member_client):
    response = member_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No orders yet." in html
    assert "No client has an order yet." in html
    stats = response.context["stats"]
    assert stats["clients"] == {"total": 0, "vip": 0, "active": 0}
    assert stats["change"] == {"orders_count_pct": None, "amount_pct": None}


def test_the_figures_and_top_clients_are_on_the_page(member_client):
    big = ClientFactory(name="Big Buyer")
    OrderFactory(client=big, amount=Decimal("1234.50"))
    OrderFactory(amount=Decimal("10.00"), status=Order.Status.DONE)
    html = member_client.get(URL).content.decode()
    assert "1,234.50" in html  # this month, the status table and the top client
    assert f'href="/clients/{big.pk}/">Big Buyer</a>' in html
    assert 'id="dashboard-stats" type="application/json"' in html


def test_no_inline_script_or_style_on_the_page(member_client):
    OrderFactory()
    html = member_client.get(URL).content.decode()
    assert "style=" not in html
    for chunk in html.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head


def test_the_month_follows_the_business_time_zone(member_client, settings, monkeypatch):
    """23:30 in Berlin on 31 March is 21:30 UTC: a March order, whatever UTC says."""
    from django.utils import timezone

    settings.TIME_ZONE = "Europe/Berlin"
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 4, 10, 12, tzinfo=UTC))
    order = OrderFactory(amount=Decimal("7.00"))
    Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    stats = member_client.get(URL).context["stats"]
    assert stats["last_month"]["month"] == "2026-03"
    assert (stats["last_month"]["orders_count"], stats["last_month"]["amount"]) == (1, "7.00")
    assert stats["this_month"]["orders_count"] == 0


def test_the_cached_figures_are_kept_apart_by_what_each_user_may_see(client, member):
    OrderFactory(amount=Decimal("12.00"))
    client.force_login(member)
    assert b"chart-amount" in client.get(URL).content  # the manager's figures, now cached
    with_permissions(client, VIEW_CLIENT)
    content = client.get(URL).content
    assert b"chart-amount" not in content
    assert b'data-stat="clients.total"' in content


def test_a_cached_page_shows_a_new_order_at_once(member_client, django_capture_on_commit_callbacks):
    OrderFactory(amount=Decimal("10.00"))
    assert b"10.00" in member_client.get(URL).content
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on at commit
        OrderFactory(amount=Decimal("32.00"))
    assert b"42.00" in member_client.get(URL).content


def test_the_menu_offers_only_the_pages_the_user_may_open(client, nobody):
    client.force_login(nobody)
    html = client.get("/accounts/token/").text
    for path in ("/dashboard/", "/clients/", "/orders/", "/orders/board/"):
        assert f'href="{path}"' not in html
    with_permissions(client, VIEW_ORDER)  # orders name their clients: no orders pages either
    html = client.get("/accounts/token/").text
    assert 'href="/dashboard/"' in html
    assert 'href="/orders/"' not in html
    assert 'href="/clients/"' not in html
