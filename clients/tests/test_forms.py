import pytest

from clients.forms import ClientForm
from clients.models import Client
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def form(**data):
    return ClientForm(data={"name": "Ada", "email": "ada@mail.test", "phone": "", **data})


def test_email_is_lowercased():
    f = form(email="USER@MAIL.COM")
    assert f.is_valid(), f.errors
    assert f.cleaned_data["email"] == "user@mail.com"


@pytest.mark.parametrize("email", ["bob@example.com", "BOB@EXAMPLE.COM", "x@sales.example.com"])
def test_example_com_and_its_subdomains_are_rejected(email):
    f = form(email=email)
    assert not f.is_valid()
    assert "example.com" in f.errors["email"][0]


@pytest.mark.parametrize("email", ["x@notexample.com", "x@example.company"])
def test_lookalike_domains_are_accepted(email):
    assert form(email=email).is_valid()


def test_duplicate_email_in_other_case_is_a_field_error():
    ClientFactory(email="ada@mail.test")
    f = form(email="ADA@Mail.Test")
    assert not f.is_valid()
    assert f.errors["email"] == ["A client with this email already exists."]


def test_name_is_required():
    f = form(name="")
    assert not f.is_valid()
    assert "name" in f.errors


@pytest.mark.parametrize("phone", ["+49 (30) 123-456", "030 1234567", ""])
def test_loose_phone_formats_are_accepted(phone):
    assert form(phone=phone).is_valid()


@pytest.mark.parametrize("phone", ["call me", "+49 30 12x", "---", "12;34"])
def test_phone_with_other_characters_is_rejected(phone):
    f = form(phone=phone)
    assert not f.is_valid()
    assert "phone" in f.errors


def test_invalid_form_saves_nothing():
    form(email="bad@example.com").is_valid()
    assert not Client.objects.exists()
