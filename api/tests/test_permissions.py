"""Milestone 15: who may do what, authentication, throttling. Every role against every
endpoint: test_roles.py."""

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clients.models import Client, Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

WRITE_STATUS = {"POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}


def request(api, method: str, resource: str):
    """One call of `method` on `resource` ("clients" or "orders") with a valid payload."""
    order = OrderFactory()
    if resource == "clients":
        obj, payload = order.client, {"name": "New", "email": "new@mail.test"}
        change = {"name": "X"}
    else:
        obj = order
        payload = {"client": order.client_id, "title": "New", "amount": "1.00"}
        change = {"title": "X"}
    detail = f"/api/{resource}/{obj.pk}/"
    return {
        "GET list": lambda: api.get(f"/api/{resource}/"),
        "GET": lambda: api.get(detail),
        "POST": lambda: api.post(f"/api/{resource}/", payload),
        "PUT": lambda: api.put(detail, payload),
        "PATCH": lambda: api.patch(detail, change),
        "DELETE": lambda: api.delete(detail),
    }[method]()


@pytest.fixture(params=["guest", "member", "staff"])
def persona(request, api, member_api, staff_api):
    return request.param, {"guest": api, "member": member_api, "staff": staff_api}[request.param]


@pytest.mark.parametrize("resource", ["clients", "orders"])
@pytest.mark.parametrize("method", ["GET list", "GET", "POST", "PUT", "PATCH", "DELETE"])
def test_permissions_matrix(persona, resource, method):
    who, api = persona
    response = request(api, method, resource)
    if who == "guest":
        # Asked to authenticate (401, WWW-Authenticate: Token), reads too: they are not public
        # by default any more.
        expected = 401
    elif method.startswith("GET"):
        expected = 200  # both hold the view permission (the Managers role)
    elif who == "staff":
        expected = WRITE_STATUS[method]
    else:
        expected = 403  # a member is a manager without staff status: no writes through the API
    assert response.status_code == expected, response.content
    if expected in (401, 403):
        assert "detail" in response.json()


def test_refused_writes_change_nothing(member_api):
    order = OrderFactory(title="Keep")
    member_api.patch(f"/api/orders/{order.pk}/", {"title": "Changed"})
    member_api.delete(f"/api/clients/{order.client_id}/")
    member_api.post("/api/clients/", {"name": "New", "email": "new@mail.test"})
    assert list(Order.objects.values_list("title", flat=True)) == ["Keep"]
    assert Client.objects.count() == 1


def test_guest_write_asks_for_a_token(api):
    response = api.post("/api/clients/", {"name": "New", "email": "new@mail.test"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_inactive_staff_cannot_write(staff):
    staff.is_active = False
    staff.save()
    api = APIClient()
    api.force_authenticate(staff)
    assert api.post("/api/clients/", {"name": "N", "email": "n@mail.test"}).status_code == 403


@pytest.mark.parametrize("resource", ["clients", "orders"])
def test_reads_need_login_unless_public_read_says_otherwise(settings, api, member_api, resource):
    OrderFactory()
    assert settings.API_PUBLIC_READ is False  # the default
    assert api.get(f"/api/{resource}/").status_code == 401
    assert member_api.get(f"/api/{resource}/").status_code == 200
    settings.API_PUBLIC_READ = True
    assert api.get(f"/api/{resource}/").status_code == 200
    # Writes stay refused.
    assert member_api.delete(f"/api/{resource}/{Order.objects.get().pk}/").status_code == 403


def test_token_authentication(staff):
    token = Token.objects.create(user=staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post("/api/clients/", {"name": "Ada", "email": "ada@mail.test"})
    assert response.status_code == 201
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/clients/").status_code == 401


def test_drf_create_token_command_makes_a_working_token(staff, capsys):
    call_command("drf_create_token", staff.username)
    key = Token.objects.get(user=staff).key
    assert key in capsys.readouterr().out
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.delete(f"/api/clients/{ClientFactory().pk}/").status_code == 204


def test_session_writes_need_the_csrf_token(staff):
    # A logged-in browser session must not be usable by another site's form.
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(staff)
    response = api.post("/api/clients/", {"name": "Ada", "email": "ada@mail.test"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def throttle_rates(settings, anon: str, user: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
    }


def test_anonymous_requests_are_throttled_with_retry_after(settings, api):
    # Guests only get as far as the throttle where they may read: with API_PUBLIC_READ.
    settings.API_PUBLIC_READ = True
    throttle_rates(settings, anon="3/min", user="100/min")
    for _ in range(3):
        assert api.get("/api/clients/").status_code == 200
    response = api.get("/api/orders/")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"]


def test_users_have_their_own_rate(settings, member_api, api):
    settings.API_PUBLIC_READ = True
    throttle_rates(settings, anon="1/min", user="3/min")
    for _ in range(3):
        assert member_api.get("/api/clients/").status_code == 200
    assert member_api.get("/api/clients/").status_code == 429
    # Another caller's budget is separate.
    assert api.get("/api/clients/").status_code == 200


def test_default_rates_come_from_the_environment(monkeypatch):
    import importlib

    import mini_crm.settings

    monkeypatch.setenv("API_THROTTLE_ANON", "7/min")
    monkeypatch.setenv("API_THROTTLE_USER", "70/hour")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    try:
        reloaded = importlib.reload(mini_crm.settings)
        assert reloaded.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
            "anon": "7/min",
            "user": "70/hour",
        }
    finally:
        monkeypatch.undo()
        importlib.reload(mini_crm.settings)


def test_the_anonymous_rate_alone_governs_guests(settings, api):
    settings.API_PUBLIC_READ = True
    throttle_rates(settings, anon="5/min", user="2/min")
    for _ in range(5):
        assert api.get("/api/clients/").status_code == 200
    assert api.get("/api/clients/").status_code == 429


def test_throttles_let_calls_through_when_the_cache_is_down(api, settings):
    from django.test import override_settings

    settings.API_PUBLIC_READ = True

    from core.testing import DEAD_REDIS

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/min", "user": "1/min"},
    }
    with override_settings(CACHES=DEAD_REDIS):
        # Over the 1/min rate, yet answered: an unreachable Redis fails open, never a 500.
        codes = [api.get("/api/orders/").status_code for _ in range(3)]
    assert codes == [200, 200, 200]


def test_the_replaced_read_setting_is_named_at_start(monkeypatch):
    from api.checks import replaced_settings

    monkeypatch.delenv("API_READ_REQUIRES_LOGIN", raising=False)
    assert replaced_settings(None) == []
    monkeypatch.setenv("API_READ_REQUIRES_LOGIN", "1")
    assert [warning.id for warning in replaced_settings(None)] == ["api.W001"]
