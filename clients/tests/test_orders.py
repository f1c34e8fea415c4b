from decimal import Decimal

import pytest
from django.urls import reverse

from clients.forms import OrderForm
from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db):
    return ClientFactory(name="Acme")


def test_url_names_match_the_spec():
    assert reverse("clients:detail", args=[7]) == "/clients/7/"
    assert reverse("clients:order_add", args=[7]) == "/clients/7/orders/add/"
    assert reverse("clients:order_edit", args=[7, 9]) == "/clients/7/orders/9/edit/"
    assert reverse("clients:order_status", args=[7, 9]) == "/clients/7/orders/9/status/"
    assert reverse("clients:export") == "/clients/export.csv"


def test_order_form_fields():
    assert list(OrderForm.base_fields) == ["title", "amount", "status"]


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["orders/add/", "orders/{o}/edit/"])
def test_guest_get_is_redirected_to_login(client, acme, suffix):
    o = OrderFactory(client=acme)
    url = f"/clients/{acme.pk}/" + suffix.format(o=o.pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_guest_posts_change_nothing(client, acme):
    o = OrderFactory(client=acme, title="Keep", status=Order.Status.NEW)
    data = {"title": "Hacked", "amount": "1", "status": "DONE"}
    for url in (
        f"/clients/{acme.pk}/orders/add/",
        f"/clients/{acme.pk}/orders/{o.pk}/edit/",
        f"/clients/{acme.pk}/orders/{o.pk}/status/",
    ):
        assert client.post(url, data).status_code == 302
    assert list(Order.objects.values_list("title", "status")) == [("Keep", "NEW")]


# --- Add ---------------------------------------------------------------------------------------


def test_add_form_renders_accessible_fields(member_client, acme):
    html = member_client.get(f"/clients/{acme.pk}/orders/add/").text
    assert "Add order" in html
    for field in ("title", "amount", "status"):
        assert f'name="{field}"' in html
    assert '<label for="id_title">' in html


def test_add_creates_the_order_and_redirects_to_the_client_page(member_client, acme):
    response = member_client.post(
        f"/clients/{acme.pk}/orders/add/",
        {"title": "Website", "amount": "1999.90", "status": "IN_PROGRESS"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/clients/{acme.pk}/", 302)]
    order = Order.objects.get()
    assert (order.client, order.title, order.amount, order.status) == (
        acme,
        "Website",
        Decimal("1999.90"),
        "IN_PROGRESS",
    )
    assert "Order “Website” was added." in response.text
    assert "1,999.90" in response.text


def test_add_form_preselects_the_new_status(member_client, acme):
    html = member_client.get(f"/clients/{acme.pk}/orders/add/").text
    assert '<option value="NEW" selected>' in html


def test_add_for_unknown_client_is_404_and_saves_nothing(member_client):
    url = "/clients/999999/orders/add/"
    assert member_client.get(url).status_code == 404
    response = member_client.post(url, {"title": "X", "amount": "1", "status": "NEW"})
    assert response.status_code == 404
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"title": "", "amount": "1", "status": "NEW"}, "title", "This field is required."),
        (
            {"title": "X", "amount": "-0.01", "status": "NEW"},
            "amount",
            "greater than or equal to 0",
        ),
        (
            {"title": "X", "amount": "1.001", "status": "NEW"},
            "amount",
            "no more than 2 decimal places",
        ),
        ({"title": "X", "amount": "ten", "status": "NEW"}, "amount", "Enter a number."),
        ({"title": "X", "amount": "NaN", "status": "NEW"}, "amount", "Enter a number."),
        ({"title": "X", "amount": "Infinity", "status": "NEW"}, "amount", "Enter a number."),
        (
            {"title": "X", "amount": "12345678901", "status": "NEW"},
            "amount",
            "no more than 10 digits before the decimal point",
        ),
        ({"title": "   ", "amount": "1", "status": "NEW"}, "title", "This field is required."),
        ({"title": "X", "amount": "", "status": "NEW"}, "amount", "This field is required."),
        ({"title": "X", "amount": "1", "status": "LOST"}, "status", "Select a valid choice."),
    ],
)
def test_bad_input_rerenders_with_a_field_error_and_saves_nothing(
    member_client, acme, data, field, error
):
    response = member_client.post(f"/clients/{acme.pk}/orders/add/", data)
    assert response.status_code == 200
    assert not Order.objects.exists()
    assert error in " ".join(response.context["form"].errors[field])
    # The error is tied to its input for screen readers.
    assert f'id="id_{field}_error"' in response.text
    assert 'aria-invalid="true"' in response.text


# --- Edit --------------------------------------------------------------------------------------


def test_edit_updates_and_redirects_with_a_message(member_client, acme):
    o = OrderFactory(client=acme, title="Old", amount=Decimal("1.00"))
    response = member_client.post(
        f"/clients/{acme.pk}/orders/{o.pk}/edit/",
        {"title": "New", "amount": "2.50", "status": "DONE"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/clients/{acme.pk}/", 302)]
    o.refresh_from_db()
    assert (o.title, o.amount, o.status) == ("New", Decimal("2.50"), "DONE")
    assert "Order “New” was updated." in response.text


def test_edit_form_is_prefilled(member_client, acme):
    o = OrderFactory(client=acme, title="Widget", amount=Decimal("12.30"))
    html = member_client.get(f"/clients/{acme.pk}/orders/{o.pk}/edit/").text
    assert 'value="Widget"' in html
    assert 'value="12.30"' in html
    assert "Edit order" in html


def test_edit_with_bad_amount_changes_nothing(member_client, acme):
    o = OrderFactory(client=acme, title="Keep", amount=Decimal("5.00"))
    response = member_client.post(
        f"/clients/{acme.pk}/orders/{o.pk}/edit/",
        {"title": "Changed", "amount": "-5", "status": "NEW"},
    )
    assert response.status_code == 200
    o.refresh_from_db()
    assert (o.title, o.amount) == ("Keep", Decimal("5.00"))


def test_another_clients_order_under_this_client_is_404(member_client, acme):
    other = OrderFactory(title="Theirs")
    for suffix in ("edit/", "status/"):
        url = f"/clients/{acme.pk}/orders/{other.pk}/{suffix}"
        data = {"title": "X", "amount": "1", "status": "DONE"}
        assert member_client.post(url, data).status_code == 404
    assert member_client.get(f"/clients/{acme.pk}/orders/{other.pk}/edit/").status_code == 404
    other.refresh_from_db()
    assert (other.title, other.status) == ("Theirs", "NEW")


def test_unknown_order_is_404(member_client, acme):
    assert member_client.get(f"/clients/{acme.pk}/orders/999999/edit/").status_code == 404


# --- Quick status change -----------------------------------------------------------------------


def test_status_change_saves_and_says_so(member_client, acme):
    o = OrderFactory(client=acme, title="Widget", amount=Decimal("7.00"))
    response = member_client.post(
        f"/clients/{acme.pk}/orders/{o.pk}/status/", {"status": "IN_PROGRESS"}, follow=True
    )
    assert response.redirect_chain == [(f"/clients/{acme.pk}/", 302)]
    o.refresh_from_db()
    assert o.status == Order.Status.IN_PROGRESS
    assert (o.amount, o.title) == (Decimal("7.00"), "Widget")
    assert "Order “Widget” is now in progress." in response.text


def test_status_change_returns_to_the_orders_page_it_came_from(member_client, acme):
    o = OrderFactory(client=acme)
    response = member_client.post(
        f"/clients/{acme.pk}/orders/{o.pk}/status/", {"status": "DONE", "page": "2"}
    )
    assert response["Location"] == f"/clients/{acme.pk}/?page=2"


@pytest.mark.parametrize("status", ["LOST", "", "done"])
def test_unknown_status_is_an_error_message_and_saves_nothing(member_client, acme, status):
    o = OrderFactory(client=acme, status=Order.Status.NEW)
    response = member_client.post(
        f"/clients/{acme.pk}/orders/{o.pk}/status/", {"status": status}, follow=True
    )
    assert response.redirect_chain == [(f"/clients/{acme.pk}/", 302)]
    assert "That status does not exist: nothing was changed." in response.text
    assert 'class="message message-error" role="alert"' in response.text
    o.refresh_from_db()
    assert o.status == Order.Status.NEW


def test_status_endpoint_accepts_post_only(member_client, acme):
    o = OrderFactory(client=acme)
    assert member_client.get(f"/clients/{acme.pk}/orders/{o.pk}/status/").status_code == 405


# --- Views are generic CBVs with their messages ------------------------------------------------


def test_order_views_are_class_based_generic_views():
    from django.views import generic

    from clients import views

    assert issubclass(views.ClientDetailView, generic.DetailView)
    assert issubclass(views.OrderCreateView, generic.CreateView)
    assert issubclass(views.OrderUpdateView, generic.UpdateView)
