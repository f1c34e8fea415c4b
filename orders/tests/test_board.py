"""/orders/board/: a column per status with its count and amount and its newest cards; a card
moves to another status (POST /orders/<pk>/move/) for those who may change orders."""

from decimal import Decimal

import pytest
from django.test import Client as DjangoClient

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory
from orders import selectors

pytestmark = pytest.mark.django_db


def columns(response) -> dict[str, dict]:
    return {entry["column"].status: entry for entry in response.context["columns"]}


def test_a_column_per_status_with_its_count_and_amount(member_client):
    OrderFactory(status="NEW", amount=Decimal("10.50"))
    OrderFactory(status="NEW", amount=Decimal("1.25"))
    OrderFactory(status="DONE", amount=Decimal("1000"))
    response = member_client.get("/orders/board/")
    assert response.status_code == 200
    board = columns(response)
    assert list(board) == ["NEW", "IN_PROGRESS", "DONE"]
    assert (board["NEW"]["column"].count, board["NEW"]["column"].amount) == (2, Decimal("11.75"))
    assert board["IN_PROGRESS"]["column"].count == 0
    html = response.content.decode()
    assert "11.75" in html
    assert "1,000.00" in html
    assert "No orders here." in html


def test_shows_the_newest_cards_and_says_how_many_more(member_client, monkeypatch):
    monkeypatch.setattr(selectors, "CARDS_PER_COLUMN", 3)
    monkeypatch.setattr(selectors.newest_cards, "__kwdefaults__", {"per_column": 3})
    orders = OrderFactory.create_batch(5, status="IN_PROGRESS")
    response = member_client.get("/orders/board/")
    column = columns(response)["IN_PROGRESS"]
    assert [o.pk for o in column["cards"]] == [o.pk for o in orders[::-1][:3]]
    assert column["more"] == 2
    assert 'href="/orders/?status=IN_PROGRESS">and 2 more' in response.content.decode()


def test_cards_name_their_client(member_client):
    acme = ClientFactory(name="Acme GmbH")
    OrderFactory(client=acme, title="Big deal")
    html = member_client.get("/orders/board/").content.decode()
    assert "Big deal" in html
    assert f'href="/clients/{acme.pk}/">Acme GmbH' in html


def test_a_manager_gets_drag_handles_and_move_forms(member_client):
    order = OrderFactory(status="NEW")
    html = member_client.get("/orders/board/").content.decode()
    assert 'draggable="true"' in html
    assert 'class="card-handle"' in html
    assert f'action="/orders/{order.pk}/move/"' in html
    # The move form offers the other statuses only.
    form = html[html.index(f'id="move-{order.pk}"') :]
    form = form[: form.index("</select>")]
    assert 'value="IN_PROGRESS"' in form
    assert 'value="DONE"' in form
    assert 'value="NEW"' not in form


def test_a_viewer_sees_the_board_but_no_way_to_move(client, viewer):
    OrderFactory()
    client.force_login(viewer)
    html = client.get("/orders/board/").content.decode()
    assert "card-title" in html
    assert "draggable" not in html
    assert "card-handle" not in html
    assert "/move/" not in html


@pytest.mark.parametrize("rows", [2, 50])
def test_the_query_count_does_not_grow_with_the_orders(
    member_client, django_assert_num_queries, session_queries, rows
):
    OrderFactory.create_batch(rows, status="NEW")
    OrderFactory.create_batch(rows, status="DONE")
    member_client.get("/orders/board/")  # the permissions and the totals, now cached
    # The session (unless cached), the user, then each column's newest cards with their
    # clients: NEW, IN_PROGRESS, DONE. The totals come from the cache.
    with django_assert_num_queries(session_queries + 1 + 3):
        member_client.get("/orders/board/")


def test_the_totals_are_never_stale_after_a_write(
    member_client, django_capture_on_commit_callbacks
):
    member_client.get("/orders/board/")
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(status="DONE", amount=Decimal("7"))
    done = columns(member_client.get("/orders/board/"))["DONE"]["column"]
    assert (done.count, done.amount) == (1, Decimal("7"))


def test_the_columns_as_json_for_the_script(member_client):
    order = OrderFactory(status="IN_PROGRESS", amount=Decimal("12.5"), title="T")
    data = member_client.get("/orders/board/columns/").json()
    progress = data["columns"][1]
    assert (progress["status"], progress["count"], progress["amount"]) == (
        "IN_PROGRESS",
        1,
        "12.50",
    )
    assert progress["cards"][0]["id"] == order.pk
    assert progress["cards"][0]["client"]["url"] == f"/clients/{order.client_id}/"
    assert progress["cards"][0]["move_url"] == f"/orders/{order.pk}/move/"


# --- The move -------------------------------------------------------------------------------
def test_the_form_moves_and_redirects_back_with_a_message(member_client):
    order = OrderFactory(status="NEW", title="Roof")
    response = member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"}, follow=True)
    assert response.redirect_chain == [("/orders/board/", 302)]
    order.refresh_from_db()
    assert order.status == "DONE"
    assert "Order “Roof” moved to Done." in response.content.decode()


def test_the_script_gets_json(member_client):
    order = OrderFactory(status="NEW")
    response = member_client.post(
        f"/orders/{order.pk}/move/", {"status": "IN_PROGRESS"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["previous_status"] == "NEW"
    assert data["order"]["status"] == "IN_PROGRESS"


def test_a_move_writes_only_the_status(member_client):
    """A board loaded before someone re-priced the order does not put the old price back."""
    order = OrderFactory(status="NEW", amount=Decimal("5"))
    Order.objects.filter(pk=order.pk).update(amount=Decimal("99"))
    member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"})
    order.refresh_from_db()
    assert (order.status, order.amount) == ("DONE", Decimal("99"))


def test_moving_to_the_same_status_changes_nothing(member_client):
    order = OrderFactory(status="DONE", title="Roof")
    response = member_client.post(f"/orders/{order.pk}/move/", {"status": "DONE"}, follow=True)
    assert "already Done" in response.content.decode()


@pytest.mark.parametrize("data", [{"status": "LOST"}, {"status": ""}, {}])
def test_a_bad_status_changes_nothing(member_client, data):
    order = OrderFactory(status="NEW")
    response = member_client.post(f"/orders/{order.pk}/move/", data, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "error" in response.json()
    response = member_client.post(f"/orders/{order.pk}/move/", data, follow=True)
    assert (
        "nothing was changed" in response.content.decode()
        or "required" in response.content.decode()
    )
    order.refresh_from_db()
    assert order.status == "NEW"


def test_an_unknown_order(member_client):
    response = member_client.post(
        "/orders/999999/move/", {"status": "DONE"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert "no longer exists" in response.json()["error"]
    response = member_client.post("/orders/999999/move/", {"status": "DONE"}, follow=True)
    assert response.redirect_chain == [("/orders/board/", 302)]
    assert "no longer exists" in response.content.decode()


def test_get_is_not_allowed(member_client):
    order = OrderFactory()
    assert member_client.get(f"/orders/{order.pk}/move/").status_code == 405


def test_the_move_is_csrf_protected(member):
    order = OrderFactory(status="NEW")
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.force_login(member)
    assert browser.post(f"/orders/{order.pk}/move/", {"status": "DONE"}).status_code == 403
    order.refresh_from_db()
    assert order.status == "NEW"
