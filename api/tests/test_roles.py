"""Every role against every API endpoint and method. The table is the roles' rights (as in
clients/permissions.py); the API adds one rule for writes, staff status. Allowed: success;
refused: 403 (401 without credentials), and the database exactly as before."""

import pytest
from rest_framework.test import APIClient

from clients.models import Client, Order
from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERYTHING = {"view", "add", "change", "delete", "merge"}
# persona: (is_superuser, is_staff, roles, what its role may do)
PERSONAS = {
    "superuser": (True, True, [], EVERYTHING),
    "manager": (False, True, [MANAGERS], EVERYTHING),
    "sales": (False, True, [SALES], {"view", "add", "change"}),
    "viewer": (False, True, [VIEWERS], {"view"}),
    "no role": (False, True, [], set()),
    # A role without staff status reads, and never writes through the API.
    "manager, not staff": (False, False, [MANAGERS], EVERYTHING),
    "anonymous": None,
}
SUCCESS = {"view": 200, "add": 201, "change": 200, "delete": 204, "merge": 200}
# (action, method, url) where {c}/{o} are a client's and an order's id, {s} the merge's source.
OPERATIONS = [
    ("view", "get", "/api/clients/"),
    ("view", "get", "/api/clients/{c}/"),
    ("add", "post", "/api/clients/"),
    ("change", "put", "/api/clients/{c}/"),
    ("change", "patch", "/api/clients/{c}/"),
    ("delete", "delete", "/api/clients/{c}/"),
    ("merge", "post", "/api/clients/{c}/merge/"),
    ("view", "get", "/api/orders/"),
    ("view", "get", "/api/orders/{o}/"),
    ("add", "post", "/api/orders/"),
    ("change", "put", "/api/orders/{o}/"),
    ("change", "patch", "/api/orders/{o}/"),
    ("delete", "delete", "/api/orders/{o}/"),
]


def caller(persona: str) -> APIClient:
    api = APIClient()
    if PERSONAS[persona] is not None:
        superuser, staff, roles, _ = PERSONAS[persona]
        api.force_login(UserFactory(is_superuser=superuser, is_staff=staff, roles=roles))
    return api


def payload(method: str, url: str, order: Order, source: Client) -> dict:
    if "/merge/" in url:
        return {"source": source.pk}
    if url.startswith("/api/clients/"):
        return {"name": "Changed", "email": "changed@mail.test"}
    return {"client": order.client_id, "title": "Changed", "amount": "2.00"}


def snapshot() -> tuple:
    return (
        sorted(Client.objects.values_list("id", "name", "email", "phone", "vip")),
        sorted(Order.objects.values_list("id", "client_id", "title", "amount", "status")),
    )


def expected(persona: str, action: str, public_read: bool = False) -> int:
    if action == "view" and public_read:
        return 200
    if PERSONAS[persona] is None:
        return 401
    _, staff, _, may = PERSONAS[persona]
    if action not in may or (action != "view" and not staff):
        return 403
    return SUCCESS[action]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("action", "method", "url"), OPERATIONS)
def test_role_matrix(persona, action, method, url):
    order = OrderFactory(title="Kept")
    source = ClientFactory(name="Duplicate")
    api = caller(persona)
    before = snapshot()
    target = url.format(c=order.client_id, o=order.pk)
    body = payload(method, url, order, source) if method in ("post", "put", "patch") else None
    response = getattr(api, method)(target, body)
    want = expected(persona, action)
    assert response.status_code == want, response.content
    if want in (401, 403):
        assert response.headers["Content-Type"] == "application/json"
        assert "detail" in response.json()
        assert snapshot() == before
    if want == 401:
        assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("persona", ["anonymous", "no role", "manager, not staff"])
@pytest.mark.parametrize(("action", "method", "url"), OPERATIONS)
def test_public_read_opens_reads_only(settings, persona, action, method, url):
    settings.API_PUBLIC_READ = True
    order = OrderFactory()
    source = ClientFactory()
    before = snapshot()
    body = payload(method, url, order, source) if method in ("post", "put", "patch") else None
    target = url.format(c=order.client_id, o=order.pk)
    response = getattr(caller(persona), method)(target, body)
    assert response.status_code == expected(persona, action, public_read=True), response.content
    if action != "view":
        assert snapshot() == before


def test_a_refused_detail_does_not_say_whether_the_id_exists():
    api = caller("no role")
    assert api.get("/api/clients/999999/").status_code == 403
    assert api.get(f"/api/clients/{ClientFactory().pk}/").status_code == 403


def test_a_refused_json_answer_says_why():
    response = caller("viewer").delete(f"/api/orders/{OrderFactory().pk}/")
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_a_token_carries_its_users_role(viewer):
    from rest_framework.authtoken.models import Token

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    assert api.get("/api/orders/").status_code == 200
    viewer.is_staff = True
    viewer.save()
    assert api.post("/api/clients/", {"name": "N", "email": "n@mail.test"}).status_code == 403
