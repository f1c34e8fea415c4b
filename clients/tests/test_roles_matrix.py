"""Every role against every page and admin action on clients and orders. The table is the roles'
rights (clients/permissions.py). Allowed: the page or its success redirect; refused: 403 (the
login page for a guest), and the database exactly as before. The API's matrix is in
api/tests/test_roles.py, the live page's in live/tests/test_consumer.py."""

import pytest

from clients.models import Client, Order
from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import ClientFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERYTHING = {"view", "add", "change", "delete", "merge", "export"}
# persona: (is_superuser, roles, what it may do); None: not logged in.
PERSONAS = {
    "superuser": (True, [], EVERYTHING),
    "manager": (False, [MANAGERS], EVERYTHING),
    "sales": (False, [SALES], {"view", "add", "change"}),
    "viewer": (False, [VIEWERS], {"view"}),
    "no role": (False, [], set()),
    "guest": None,
}
# (action, method, url, form data, status when allowed); {c} a client, {o} its order, {s} a
# second client (the merge's source).
PAGES = [
    ("view", "get", "/clients/", None, 200),
    ("view", "get", "/clients/{c}/", None, 200),
    ("add", "get", "/clients/add/", None, 200),
    ("add", "post", "/clients/add/", {"name": "New", "email": "new@mail.test"}, 302),
    ("change", "get", "/clients/{c}/edit/", None, 200),
    ("change", "post", "/clients/{c}/edit/", {"name": "Changed", "email": "ada@mail.test"}, 302),
    ("delete", "get", "/clients/{c}/edit/delete/", None, 200),
    ("delete", "post", "/clients/{c}/edit/delete/", {}, 302),
    ("add", "get", "/clients/{c}/orders/add/", None, 200),
    (
        "add",
        "post",
        "/clients/{c}/orders/add/",
        {"title": "T", "amount": "1", "status": "NEW"},
        302,
    ),
    ("change", "get", "/clients/{c}/orders/{o}/edit/", None, 200),
    (
        "change",
        "post",
        "/clients/{c}/orders/{o}/edit/",
        {"title": "T2", "amount": "2", "status": "DONE"},
        302,
    ),
    ("change", "post", "/clients/{c}/orders/{o}/status/", {"status": "DONE"}, 302),
    ("merge", "get", "/clients/merge/", None, 200),
    ("merge", "post", "/clients/merge/", {"source": "{s}", "target": "{c}"}, 302),
    ("export", "get", "/clients/export.csv", None, 200),
]
# The admin follows the same permissions for staff (everyone there is staff).
ADMIN = [
    ("view", "get", "/admin/clients/client/", None, 200),
    ("view", "get", "/admin/clients/order/", None, 200),
    # The change page answers a viewer too, read-only: Django's view permission.
    ("view", "get", "/admin/clients/client/{c}/change/", None, 200),
    ("add", "get", "/admin/clients/client/add/", None, 200),
    ("delete", "post", "/admin/clients/client/{c}/delete/", {"post": "yes"}, 302),
    (
        "merge",
        "post",
        "/admin/clients/client/",
        {"action": "merge_two_clients", "_selected_action": ["{s}", "{c}"]},
        302,
    ),
]


def snapshot() -> tuple:
    return (
        sorted(Client.objects.values_list("id", "name", "email", "phone", "vip")),
        sorted(Order.objects.values_list("id", "client_id", "title", "amount", "status")),
    )


def log_in(http, persona: str, *, staff: bool = False) -> None:
    if PERSONAS[persona] is not None:
        superuser, roles, _ = PERSONAS[persona]
        http.force_login(UserFactory(is_superuser=superuser, is_staff=staff, roles=roles))


def fill(value, ids: dict):
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    return value.format(**ids) if isinstance(value, str) else value


@pytest.fixture
def ids(db) -> dict:
    ada = ClientFactory(name="Ada", email="ada@mail.test")
    return {"c": ada.pk, "o": OrderFactory(client=ada).pk, "s": ClientFactory(name="Ada 2").pk}


def send(http, method: str, url: str, data, ids: dict):
    data = {key: fill(value, ids) for key, value in (data or {}).items()}
    return getattr(http, method)(url.format(**ids), data)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("action", "method", "url", "data", "allowed"), PAGES)
def test_pages(client, ids, persona, action, method, url, data, allowed):
    log_in(client, persona)
    before = snapshot()
    response = send(client, method, url, data, ids)
    if PERSONAS[persona] is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif action in PERSONAS[persona][2]:
        assert response.status_code == allowed, response.content[:300]
        return
    else:
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("persona", [p for p in PERSONAS if PERSONAS[p] is not None])
@pytest.mark.parametrize(("action", "method", "url", "data", "allowed"), ADMIN)
def test_admin(client, ids, persona, action, method, url, data, allowed):
    log_in(client, persona, staff=True)
    before = snapshot()
    response = send(client, method, url, data, ids)
    may = action in PERSONAS[persona][2]
    if action == "merge":
        # An action the user may not run is not offered: the admin answers "no action
        # selected" (the list again), or 403 to a user who may not even see the list.
        assert response.status_code in ((302,) if may else (200, 302, 403))
        assert (snapshot() != before) is may
        return
    if may:
        assert response.status_code == allowed
    else:
        assert response.status_code == 403
        assert snapshot() == before


def test_a_user_with_no_role_is_told_to_ask_a_manager(client):
    client.force_login(UserFactory(username="newcomer"))
    response = client.get("/clients/", follow=True)
    assert response.status_code == 403
    assert "You have no access yet — ask a manager" in response.text


def test_a_refused_action_says_so_without_the_no_role_text(client):
    client.force_login(UserFactory(roles=[VIEWERS]))
    response = client.get("/clients/add/")
    assert response.status_code == 403
    assert "You may not do that" in response.text
    assert "Ask an administrator" in response.text
    assert "no access yet" not in response.text


@pytest.mark.parametrize(
    ("roles", "shown", "hidden"),
    [
        ([MANAGERS], ["Add client", "Export CSV", "Merge duplicates", "/edit/"], []),
        ([SALES], ["Add client", "/edit/"], ["Export CSV", "Merge duplicates"]),
        ([VIEWERS], [], ["Add client", "Export CSV", "Merge duplicates", "/edit/"]),
    ],
)
def test_the_list_offers_only_what_the_role_may_do(client, roles, shown, hidden):
    ClientFactory()
    client.force_login(UserFactory(roles=roles))
    text = client.get("/clients/").text
    for part in shown:
        assert part in text
    for part in hidden:
        assert part not in text


@pytest.mark.parametrize(
    ("roles", "shown", "hidden"),
    [
        ([MANAGERS], ["Delete", "Merge…", "Add order", 'name="status"'], []),
        ([SALES], ["Add order", 'name="status"', "/edit/"], [">Delete<", "Merge…"]),
        ([VIEWERS], [], [">Delete<", "Merge…", "Add order", 'name="status"', "/edit/"]),
    ],
)
def test_the_client_page_offers_only_what_the_role_may_do(client, roles, shown, hidden):
    order = OrderFactory()
    client.force_login(UserFactory(roles=roles))
    text = client.get(f"/clients/{order.client_id}/").text
    for part in shown:
        assert part in text
    for part in hidden:
        assert part not in text
