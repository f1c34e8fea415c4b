"""Every role against the orders pages (clients/permissions.py): Managers and Sales may move
cards (change_order); Viewers see the list and the board only; a user with no role gets 403; a
guest is sent to the login page. Refused moves leave the order as it was."""

import pytest

from clients.permissions import MANAGERS, SALES, VIEWERS
from clients.tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

# persona: (roles, may view, may move); None: not logged in.
PERSONAS = {
    "manager": ([MANAGERS], True, True),
    "sales": ([SALES], True, True),
    "viewer": ([VIEWERS], True, False),
    "no role": ([], False, False),
}
PAGES = ["/orders/", "/orders/board/", "/orders/board/columns/", "/orders/?status=NEW&q=x"]


@pytest.fixture
def browser(client, request):
    roles, *_ = PERSONAS[request.param]
    client.force_login(UserFactory(username=request.param.replace(" ", ""), roles=roles))
    client.may_view, client.may_move = PERSONAS[request.param][1:]
    return client


@pytest.mark.parametrize("browser", list(PERSONAS), indirect=True)
@pytest.mark.parametrize("url", PAGES)
def test_viewing(browser, url):
    assert browser.get(url).status_code == (200 if browser.may_view else 403)


@pytest.mark.parametrize("browser", list(PERSONAS), indirect=True)
def test_moving(browser):
    order = OrderFactory(status="NEW")
    response = browser.post(f"/orders/{order.pk}/move/", {"status": "DONE"})
    order.refresh_from_db()
    if browser.may_move:
        assert response.status_code == 302
        assert order.status == "DONE"
    else:
        assert response.status_code == 403
        assert order.status == "NEW"


@pytest.mark.parametrize("url", [*PAGES, "/orders/1/move/"])
def test_a_guest_is_sent_to_the_login_page(client, url):
    response = client.post(url) if url.endswith("move/") else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("browser", list(PERSONAS), indirect=True)
def test_the_navigation_offers_orders_and_board_to_those_who_may_see_them(browser):
    html = browser.get("/clients/").content.decode() if browser.may_view else ""
    if browser.may_view:
        assert 'href="/orders/"' in html
        assert 'href="/orders/board/"' in html


def test_the_navigation_marks_the_current_page(member_client):
    html = member_client.get("/orders/board/").content.decode()
    assert 'href="/orders/board/" aria-current="page"' in html
    assert 'href="/orders/" aria-current' not in html
    assert 'href="/clients/" aria-current' not in html
