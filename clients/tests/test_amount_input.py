"""An order's amount typed as people write it in their language (clients.forms.AmountField):
"1 234,56" in Russian, "1,234.56" in English; anything else is a form error and saves nothing."""

from decimal import Decimal

import pytest

from clients.models import Order
from clients.tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def acme(db):
    return ClientFactory(name="Акме")


def add(member_client, acme, amount, headers):
    return member_client.post(
        f"/clients/{acme.pk}/orders/add/",
        {"title": "Стол", "amount": amount, "status": "NEW"},
        **headers,
    )


@pytest.mark.parametrize(
    ("amount", "headers"),
    [
        ("1 234,56", RUSSIAN),
        ("1\xa0234,56", RUSSIAN),  # the space Russian formatting itself writes
        ("1\u202f234,56", RUSSIAN),  # and the narrow one browsers' Intl writes
        ("1234,56", RUSSIAN),
        ("1234.56", RUSSIAN),
        ("1,234.56", ENGLISH),
        ("1234.56", ENGLISH),
        (" 1234.56 ", ENGLISH),
    ],
)
def test_an_amount_in_the_language_is_saved(member_client, acme, amount, headers):
    assert add(member_client, acme, amount, headers).status_code == 302
    assert Order.objects.get().amount == Decimal("1234.56")


@pytest.mark.parametrize(
    ("amount", "headers", "error"),
    [
        ("12,34,56", RUSSIAN, "Введите число."),
        ("1 23,5", RUSSIAN, "Введите число."),  # not groups of three: not a thousands mark
        ("сто", RUSSIAN, "Введите число."),
        ("12,50", ENGLISH, "Enter a number."),  # never read as 1250
        ("1 234.56", ENGLISH, "Enter a number."),
        ("-1 234,00", RUSSIAN, "0"),
        ("1,234.567", ENGLISH, "2 decimal places"),
        ("12_50", ENGLISH, "Enter a number."),  # Decimal() would read 1250
        ("12_50", RUSSIAN, "Введите число."),
        ("1e3", ENGLISH, "Enter a number."),
    ],
)
def test_a_bad_amount_is_a_form_error_and_saves_nothing(
    member_client, acme, amount, headers, error
):
    response = add(member_client, acme, amount, headers)
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors["amount"])
    assert not Order.objects.exists()


def test_the_edit_form_shows_the_amount_in_the_language(member_client, acme):
    order = OrderFactory(client=acme, amount=Decimal("1234.50"))
    url = f"/clients/{acme.pk}/orders/{order.pk}/edit/"
    assert 'value="1234,50"' in member_client.get(url, **RUSSIAN).text
    html = member_client.get(url, **ENGLISH).text
    assert 'value="1234.50"' in html
    assert 'inputmode="decimal"' in html
