import pytest
from django.urls import reverse

from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

LIST = "/clients/"


@pytest.mark.parametrize(
    "url", ["/clients/", "/clients/add/", "/clients/1/edit/", "/clients/1/edit/delete/"]
)
def test_guest_is_redirected_to_login_with_next(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_guest_post_creates_nothing(client):
    client.post("/clients/add/", {"name": "Ada", "email": "ada@mail.test"})
    assert not Client.objects.exists()


def test_post_add_creates_the_client_and_redirects_with_a_message(member_client):
    response = member_client.post(
        "/clients/add/", {"name": "Ada", "email": "ADA@Mail.Test", "phone": "+49 1"}, follow=True
    )
    assert response.redirect_chain == [(LIST, 302)]
    assert Client.objects.get().email == "ada@mail.test"
    assert "Client “Ada” was added." in response.text


def test_invalid_add_rerenders_with_field_errors_and_saves_nothing(member_client):
    response = member_client.post("/clients/add/", {"name": "", "email": "x@example.com"})
    assert response.status_code == 200
    assert not Client.objects.exists()
    html = response.text
    # Errors are tied to their inputs for screen readers.
    assert 'aria-invalid="true"' in html
    assert 'id="id_email_error"' in html
    assert "example.com are placeholders" in html


def test_duplicate_email_on_add_is_a_field_error_not_a_500(member_client):
    ClientFactory(email="ada@mail.test")
    response = member_client.post("/clients/add/", {"name": "Ada 2", "email": "ADA@MAIL.TEST"})
    assert response.status_code == 200
    assert "A client with this email already exists." in response.text
    assert Client.objects.count() == 1


def test_edit_updates_and_redirects_with_a_message(member_client):
    c = ClientFactory(name="Old")
    response = member_client.post(
        f"/clients/{c.pk}/edit/", {"name": "New", "email": c.email, "phone": ""}, follow=True
    )
    assert response.redirect_chain == [(LIST, 302)]
    c.refresh_from_db()
    assert c.name == "New"
    assert "Client “New” was updated." in response.text


def test_delete_asks_first_then_deletes_on_post(member_client):
    c = ClientFactory(name="Gone")
    confirm = member_client.get(f"/clients/{c.pk}/edit/delete/")
    assert confirm.status_code == 200
    assert "Delete Gone?" in confirm.text
    assert Client.objects.filter(pk=c.pk).exists()

    response = member_client.post(f"/clients/{c.pk}/edit/delete/", follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert not Client.objects.filter(pk=c.pk).exists()
    assert "“Gone” was moved to the trash" in response.text


@pytest.mark.parametrize("suffix", ["edit/", "edit/delete/"])
def test_unknown_id_is_404(member_client, suffix):
    assert member_client.get(f"/clients/999999/{suffix}").status_code == 404
    assert member_client.post(f"/clients/999999/{suffix}").status_code == 404


def test_url_names_match_the_spec():
    assert reverse("clients:list") == "/clients/"
    assert reverse("clients:add") == "/clients/add/"
    assert reverse("clients:edit", args=[7]) == "/clients/7/edit/"
    assert reverse("clients:delete", args=[7]) == "/clients/7/edit/delete/"


def test_views_are_class_based_generic_views():
    from django.views import generic

    from clients import views

    assert issubclass(views.ClientListView, generic.ListView)
    assert issubclass(views.ClientCreateView, generic.CreateView)
    assert issubclass(views.ClientUpdateView, generic.UpdateView)
    assert issubclass(views.ClientDeleteView, generic.DeleteView)


# --- The unique email's race (issue 17) ---------------------------------------------------------
@pytest.fixture
def lost_race(monkeypatch):
    """The form's uniqueness check passes, as it does for both of two people saving the same
    new address at once: the database's constraint is what refuses the second."""
    from clients.forms import ClientForm

    monkeypatch.setattr(ClientForm, "validate_unique", lambda self: None)


def test_a_lost_race_for_a_new_email_is_the_forms_error_not_a_500(member_client, lost_race):
    ClientFactory(email="taken@mail.test")
    response = member_client.post("/clients/add/", {"name": "Second", "email": "taken@mail.test"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["A client with this email already exists."]
    assert Client.objects.filter(email="taken@mail.test").count() == 1
    assert not Client.objects.filter(name="Second").exists()


def test_a_lost_race_on_an_edit_is_the_forms_error_and_changes_nothing(member_client, lost_race):
    ClientFactory(email="taken@mail.test")
    mine = ClientFactory(name="Mine", email="mine@mail.test")
    response = member_client.post(
        f"/clients/{mine.pk}/edit/", {"name": "Renamed", "email": "taken@mail.test"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    mine.refresh_from_db()
    assert (mine.name, mine.email) == ("Mine", "mine@mail.test")
