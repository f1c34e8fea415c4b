"""A row is checked as the client form (or the order form) checks the same values, word for
word; amounts, statuses and dates come in the forms spreadsheets write them."""

import datetime
import re
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
        ("1'234.56", "1234.56"),  # Swiss
        ("CHF 1'234.50", "1234.50"),
        ("+12.50", "12.50"),
        ("+1,234.50", "1234.50"),
        ("12 EUR", "12"),
        ("usd 5", "5"),
        ("GBP 7", "7"),
        ("RUB 7", "7"),
        ("PLN 7", "7"),
        ("10 zł", "10"),
        ("£3.50", "3.50"),
        ("¥500", "500"),
        ("₽ 100", "100"),
        ("₴20", "20"),
        ("250 руб", "250"),
        ("5 р.", "5"),
        # Not thousands (a leading zero, four digits before): decimals, the form's "2 places"
        ("0,500", "0.500"),
        ("1234,567", "1234.567"),
    ],
)
def test_amounts_in_the_forms_spreadsheets_write(text, expected):
    assert parse_amount(text) == expected


NEGATIVE_AMOUNTS = [
    ("(12)", "-12"),  # accountants' brackets
    ("(€ 12.00)", "-12.00"),
    ("12-", "-12"),  # a trailing minus, as SAP exports write it
    ("12 EUR-", "-12"),
    ("\u22125", "-5"),  # U+2212, the minus sign
    ("\u2013 5", "-5"),  # an en dash
    ("-€5", "-5"),
    ("€ -1 234,50", "-1234.50"),
]


@pytest.mark.parametrize(("text", "expected"), NEGATIVE_AMOUNTS)
def test_negative_amounts_keep_their_sign(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.django_db  # the form checks the model's constraints in the database
@pytest.mark.parametrize(("text", "minus"), NEGATIVE_AMOUNTS)
def test_a_negative_amount_is_the_forms_error_for_a_negative_number(text, minus):
    values = {"title": "Desk", "status": "NEW"}

    _cleaned, errors = OrderRow().clean({"client_email": "a@mail.test", "amount": text, **values})

    assert errors == form_errors(OrderForm(data={"amount": minus, **values}))
    assert errors == [("amount", "Ensure this value is greater than or equal to 0.00.")]


@pytest.mark.parametrize("text", ["1" + " " * 10_000 + "x", "- " * 10_000, "1 " * 10_000 + "%"])
def test_a_long_cell_is_refused_at_once(text):
    # Two optional gaps side by side in the pattern would try every split of the spaces: hours.
    assert parse_amount(text) == text.strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "10%",
        "5 CR",
        "5 XYZ",
        "+49 30 1234",  # a phone number
        "+49 301 234",  # one whose groups happen to have three digits
        "30.11.2026",  # a date
        "1,2,3",  # thousands groups have three digits
        "1.23.4",
        "1,234 567",
        "1.234,567.8",
        "--5",
        "-(12)",
        "€ 5 EUR",
        "12..5",
    ],
)
def test_an_amount_that_is_not_a_number_is_the_forms_error(text):
    values = {"title": "Desk", "amount": text, "status": "NEW"}

    _cleaned, errors = OrderRow().clean({"client_email": "a@mail.test", **values})

    assert errors == form_errors(OrderForm(data=values))
    assert errors == [("amount", "Enter a number.")]


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
        ("46000.5", at(2025, 12, 9, 12)),
        ("10000", at(1927, 5, 18)),  # the smallest five-digit one
        ("1900-01-01", at(1900, 1, 1)),  # the first and last years accepted
        ("2100-12-31", at(2100, 12, 31)),
        ("31.12.2100 23:59", at(2100, 12, 31, 23, 59)),
        (
            "2100-12-31T23:59:59-12:00",
            datetime.datetime(2101, 1, 1, 11, 59, 59, tzinfo=datetime.UTC),
        ),
    ],
)
def test_dates_in_iso_and_the_forms_excel_writes(text, expected):
    assert parse_created_at(text) == expected


OUT_OF_RANGE_DATES = [
    "0001-01-01",  # in UTC a year 0, which saving cannot convert to
    "9999-12-31T23:59:59-12:00",  # in UTC a year 10000
    "9999-12-31",
    "1899-12-31",
    "2101-01-01",
    "31.12.1899",
    "01/01/2101",
    "99999",  # an Excel day number in 2173
    "00001",  # and one in 1899
]
BARE_YEARS = ["2026", "1999", "2026.5"]  # not Excel day numbers: 2026 would be 1905-07-18


@pytest.mark.parametrize("text", OUT_OF_RANGE_DATES + BARE_YEARS)
def test_a_date_out_of_range_or_a_bare_year_is_refused(text):
    with pytest.raises(ValueError, match=re.escape(text)):
        parse_created_at(text)


def test_an_overflow_making_a_time_aware_is_a_value_error(monkeypatch):
    def overflow(value, timezone=None):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(timezone, "make_aware", overflow)

    with pytest.raises(ValueError, match="2026-11-30"):
        parse_created_at("2026-11-30")


@pytest.mark.parametrize(
    "text",
    ["yesterday", "31.02.2026", "13/13/2026", "2026-13-01", *OUT_OF_RANGE_DATES, *BARE_YEARS],
)
def test_an_unreadable_date_is_the_rows_error(text):
    _cleaned, errors = OrderRow().clean(
        {"client_email": "a@mail.test", "title": "Desk", "amount": "1", "created_at": text}
    )

    assert errors == [
        ("created_at", "Enter a date such as 2026-11-30, 30.11.2026 or 11/30/2026 14:05.")
    ]


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
