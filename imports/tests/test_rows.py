"""A row is checked as the client form (or the order form) checks the same values, word for
word; amounts, statuses and dates come in the forms spreadsheets write them."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.forms import ClientForm, OrderForm
from imports.columns import auto_mapping, clean_mapping, ignored_columns
from imports.rows import ClientRow, OrderRow, parse_amount, parse_created_at, unneutralise

BAD_CLIENTS = [
    {"name": "", "email": "a@mail.test", "phone": ""},
    {"name": "Ann", "email": "", "phone": ""},
    {"name": "Ann", "email": "not an email", "phone": ""},
    {"name": "Ann", "email": "ann@example.com", "phone": ""},
    {"name": "Ann", "email": "ann@sub.example.com", "phone": ""},
    {"name": "Ann", "email": "ann@mail.test", "phone": "call me"},
    {"name": "Ann", "email": "ann@mail.test", "phone": "+1" * 20},
    {"name": "x" * 201, "email": "ann@mail.test", "phone": ""},
    {"name": "Ann", "email": "a" * 250 + "@mail.test", "phone": ""},
]


def form_errors(form) -> list[tuple[str, str]]:
    return sorted(
        (field, " ".join(messages)) for field, messages in form.errors.items() if field != "avatar"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("values", BAD_CLIENTS)
def test_client_row_errors_are_the_client_forms_own(values):
    _cleaned, errors = ClientRow().clean(values)

    assert errors
    assert sorted(errors) == form_errors(ClientForm(data=values))


@pytest.mark.django_db
def test_client_row_is_cleaned_as_the_form_cleans_it():
    values = {"name": "  Ann Lee ", "email": " Ann@Mail.TEST ", "phone": " +49 30 1 "}
    form = ClientForm(data=values)
    assert form.is_valid()

    cleaned, errors = ClientRow().clean(values)

    assert errors == []
    assert cleaned == {k: form.cleaned_data[k] for k in ("name", "email", "phone")}
    assert cleaned["email"] == "ann@mail.test"


@pytest.mark.django_db  # the form checks the model's constraints in the database
@pytest.mark.parametrize(
    "values",
    [
        {"title": "", "amount": "1", "status": "NEW"},
        {"title": "Desk", "amount": "-1", "status": "NEW"},
        {"title": "Desk", "amount": "1.234", "status": "NEW"},
        {"title": "Desk", "amount": "lots", "status": "NEW"},
        {"title": "Desk", "amount": "", "status": "NEW"},
        {"title": "Desk", "amount": "12345678901.00", "status": "NEW"},
        {"title": "Desk", "amount": "1", "status": "SHIPPED"},
        {"title": "x" * 201, "amount": "1", "status": "NEW"},
    ],
)
def test_order_row_errors_are_the_order_forms_own(values):
    _cleaned, errors = OrderRow().clean({"client_email": "a@mail.test", **values})

    assert sorted(errors) == form_errors(OrderForm(data=values))


def test_order_row_without_a_client_email_says_it_is_required():
    _cleaned, errors = OrderRow().clean({"client_email": " ", "title": "Desk", "amount": "1"})

    assert errors == [("client_email", "This field is required.")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56", "1234.56"),  # a no-break space, as Excel writes in French or Russian
        ("1\u202f234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234", "1234"),
        ("12,5", "12.5"),
        ("1,234,567.89", "1234567.89"),
        ("1.234.567", "1234567"),
        ("€ 1,234.00", "1234.00"),
        ("$19.99", "19.99"),
        ("250 руб.", "250"),
        ("-5", "-5"),
    ],
)
def test_amounts_in_the_forms_spreadsheets_write(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", "NEW"),
        ("NEW", "NEW"),
        ("In progress", "IN_PROGRESS"),
        ("in_progress", "IN_PROGRESS"),
        ("IN PROGRESS", "IN_PROGRESS"),
        ("done", "DONE"),
        ("Done", "DONE"),
    ],
)
def test_statuses_accept_codes_and_labels(text, status):
    cleaned, errors = OrderRow().clean(
        {"client_email": "a@mail.test", "title": "Desk", "amount": "1", "status": text}
    )

    assert errors == []
    assert cleaned["status"] == status


def at(*parts) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*parts))


UTC_TIME = datetime.datetime(2026, 11, 30, 14, 5, 9, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30", at(2026, 11, 30)),
        ("2026-11-30 14:05", at(2026, 11, 30, 14, 5)),
        ("2026-11-30T14:05:09", at(2026, 11, 30, 14, 5, 9)),
        ("2026-11-30T14:05:09+00:00", UTC_TIME),
        ("2026-11-30T14:05:09Z", UTC_TIME),
        ("30.11.2026", at(2026, 11, 30)),
        ("30.11.2026 14:05", at(2026, 11, 30, 14, 5)),
        ("11/30/2026", at(2026, 11, 30)),  # month first: only one way fits
        ("30/11/2026", at(2026, 11, 30)),
        ("03/04/2026", at(2026, 4, 3)),  # both fit: day first
        ("11/30/2026 2:05 PM", at(2026, 11, 30, 14, 5)),
        ("46000", at(2025, 12, 9)),  # an Excel day number
    ],
)
def test_dates_in_iso_and_the_forms_excel_writes(text, expected):
    assert parse_created_at(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "31.02.2026", "13/13/2026", "2026-13-01"])
def test_an_unreadable_date_is_the_rows_error(text):
    _cleaned, errors = OrderRow().clean(
        {"client_email": "a@mail.test", "title": "Desk", "amount": "1", "created_at": text}
    )

    assert [field for field, _message in errors] == ["created_at"]


def test_order_row_is_cleaned():
    cleaned, errors = OrderRow().clean(
        {
            "client_email": " Ann@Mail.test",
            "title": "Desk",
            "amount": "1 234,50",
            "status": "Done",
            "created_at": "30.11.2026",
        }
    )

    assert errors == []
    assert cleaned == {
        "client_email": "ann@mail.test",
        "title": "Desk",
        "amount": Decimal("1234.50"),
        "status": "DONE",
        "created_at": at(2026, 11, 30),
    }


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ('\'=HYPERLINK("x")', '=HYPERLINK("x")'),  # our export's escape, undone
        ("'+49 30 1", "+49 30 1"),
        ("'-5", "-5"),
        ("=1+1", "=1+1"),  # a formula from elsewhere: kept as text
        ("'quoted'", "'quoted'"),
        ("O'Brien", "O'Brien"),
    ],
)
def test_exported_escapes_are_undone_and_other_text_kept(cell, value):
    assert unneutralise(cell) == value


# --- Columns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["name", "email", "phone"], {"name": 0, "email": 1, "phone": 2}),
        (["Full name", "E-mail", "Telephone"], {"name": 0, "email": 1, "phone": 2}),
        (["Company", "Email address", "Phone number"], {"name": 0, "email": 1, "phone": 2}),
        (["EMAIL_ADDRESS", "CUSTOMER NAME", "Mobile"], {"email": 0, "name": 1, "phone": 2}),
        (["Notes", "Email", "Name:"], {"email": 1, "name": 2}),
        # The export's own header: id, vip and the totals are not imported.
        (
            ["id", "name", "email", "phone", "vip", "created_at", "orders_count", "orders_total"],
            {"name": 1, "email": 2, "phone": 3},
        ),
        # An exact field name beats a synonym, wherever it stands.
        (["Company", "name", "email"], {"name": 1, "email": 2}),
    ],
)
def test_client_headers_are_matched_by_name_and_synonym(header, expected):
    assert auto_mapping("clients", header) == expected


def test_order_headers_are_matched():
    header = ["Customer email", "Description", "Total", "State", "Order date"]

    assert auto_mapping("orders", header) == {
        "client_email": 0,
        "title": 1,
        "amount": 2,
        "status": 3,
        "created_at": 4,
    }


def test_unmatched_columns_are_listed_as_ignored():
    header = ["Name", "Email", "Notes", ""]

    assert ignored_columns(header, auto_mapping("clients", header)) == ["Notes", "#4"]


def test_a_chosen_mapping_drops_what_is_out_of_range_or_taken_twice():
    header = ["a", "b", "c"]

    assert clean_mapping("clients", header, {"name": "0", "email": "0", "phone": "7"}) == {
        "name": 0
    }
    assert clean_mapping("clients", header, {"name": "", "email": "2", "phone": "x"}) == {
        "email": 2
    }
