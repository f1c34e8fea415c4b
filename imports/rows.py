"""One row of a file checked as the client form (or the order form) would check it: the same
fields, rules and messages, without a form instance per row.

A form runs its form field's clean() and then, in the model's full_clean(), the model field's
clean() (validators such as example.com and the phone rule live there). So does this, per
field: ClientForm/OrderForm's base fields, then the model fields. The uniqueness of emails is
checked against the whole file and the database at once by the plan (imports/services.py).
The test imports/tests/test_rows.py holds it to the forms' own messages.
"""

import contextlib
import datetime
import functools
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clients.forms import ClientForm, OrderForm
from clients.models import Client, Order
from core.csv import FORMULA_TRIGGERS

Errors = list[tuple[str, str]]  # (field, message)


def unneutralise(text: str) -> str:
    """The cell as it was before our export escaped it (core/csv.py neutralise): the export
    imports back unchanged. Any other text, formulas included, is kept as it is."""
    if text.startswith("'") and text[1:2] and text[1:2] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def _clean(form_field, model_field, value, errors: Errors, name: str):
    try:
        value = form_field.clean(value)
        if model_field is not None:
            value = model_field.clean(value, None)
    except ValidationError as error:
        errors.append((name, " ".join(error.messages)))
        return None
    return value


class ClientRow:
    """Cleans {"name", "email", "phone"} as ClientForm does."""

    fields = ("name", "email", "phone")

    def __init__(self):
        self.form_fields = {name: ClientForm.base_fields[name] for name in self.fields}
        self.model_fields = {name: Client._meta.get_field(name) for name in self.fields}

    def clean(self, values: dict[str, str]) -> tuple[dict, Errors]:
        errors: Errors = []
        cleaned = {}
        for name in self.fields:
            raw = unneutralise(values.get(name, "").strip())
            if name == "email":
                raw = raw.lower()  # ClientForm.clean_email
            cleaned[name] = _clean(
                self.form_fields[name], self.model_fields[name], raw, errors, name
            )
        return cleaned, errors


# --- Orders ---------------------------------------------------------------------------------
_PLAIN_AMOUNT = re.compile(r"\d+(\.\d+)?\Z")

# Only these may stand before or after the number: any other letters or signs ("10%", "5 CR")
# mean the cell is not an amount, and the form must say so rather than drop them.
_CURRENCY = r"(?:€|\$|£|¥|₽|₴|zł|eur|usd|gbp|rub|chf|pln|руб\.?|р\.)"
_GAP = r"[ \u00a0\u202f]*"
# U+2212 (minus) and U+2013 (en dash) are what word processors and some locales put for "-".
_MINUS = r"\-\u2212\u2013"  # escaped: in a [...] class, "+-−" would be a range
# Each gap belongs to the sign or currency beside it: two optional gaps side by side would share
# a run of spaces every possible way, and a long cell ("1", 1,000 spaces, "x") would take
# seconds.
_AMOUNT = re.compile(
    rf"(?:(?P<lead>[+{_MINUS}]){_GAP})?(?:(?P<prefix>{_CURRENCY}){_GAP})?"
    rf"(?:(?P<lead2>[+{_MINUS}]){_GAP})?"
    r"(?P<number>[0-9](?:[0-9.,'’ \u00a0\u202f]*[0-9])?)"
    rf"(?:{_GAP}(?P<trail>[{_MINUS}]))?(?:{_GAP}(?P<suffix>{_CURRENCY}))?"
    rf"(?:{_GAP}(?P<trail2>[{_MINUS}]))?",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"([.,'’ \u00a0\u202f])")
_WHITESPACE = " \u00a0\u202f"  # in a number after "+", the gaps of a phone number


def _digits(number: str) -> str | None:
    """'1 234,56' → '1234.56'; None unless every thousands group has exactly three digits."""
    parts = _SEPARATOR.split(number)
    groups, separators = parts[0::2], parts[1::2]
    if not separators:
        return number
    if not all(groups):  # two separators in a row: '1..2'
        return None
    point = None
    last = separators[-1]
    if last in ".," and separators.count(last) == 1:
        # A lone comma with three digits after it and no other separator groups thousands
        # ('1,234'), as an English spreadsheet writes it; '12,5' and '0,500' are decimals.
        lone_thousands = (
            last == ","
            and len(separators) == 1
            and len(groups[-1]) == 3
            and 1 <= len(groups[0]) <= 3
            and not groups[0].startswith("0")
        )
        if not lone_thousands:
            point = groups.pop()
            separators.pop()
    if separators:
        if len(set(separators)) > 1:  # '1.234,567.8': no one reading of it is safe
            return None
        if not 1 <= len(groups[0]) <= 3 or groups[0].startswith("0"):
            return None
        if any(len(group) != 3 for group in groups[1:]):  # '1,2,3', '30.11.2026'
            return None
    whole = "".join(groups)
    return whole if point is None else f"{whole}.{point}"


def parse_amount(text: str) -> str:
    """'1234.56', '1 234,56', '1,234.56', '1.234,56', '€ 1,234', '(12)', '12-' → '1234.56',
    '1234', '-12'.

    The last of '.' or ',' is the decimal point when both appear. Alone, a comma followed by
    exactly three digits groups thousands ('1,234'); otherwise it is the decimal point ('12,5').
    Thousands groups have three digits. Accountants' negatives ('(12)', '12-', '−12') become
    '-12', for the model's validator to refuse as the form would refuse '-12'. Anything else (a
    date, a phone number, '10%') is returned as it is: the form's DecimalField refuses it with
    its own message."""
    if _PLAIN_AMOUNT.match(text):
        return text  # the common case, without the parsing below
    text = text.strip()
    body = text
    negative = False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    match = _AMOUNT.fullmatch(body)
    if match is None:
        return text
    signs = [match[name] for name in ("lead", "lead2", "trail", "trail2") if match[name]]
    if len(signs) + negative > 1 or (match["prefix"] and match["suffix"]):
        return text  # '-(12)', '--5', '€ 5 EUR'
    number = match["number"]
    if signs == ["+"] and any(space in number for space in _WHITESPACE):
        return text  # '+49 301 234' is a phone number, not an amount
    digits = _digits(number)
    if digits is None:
        return text
    negative = negative or (bool(signs) and signs[0] != "+")
    return f"-{digits}" if negative else digits


def _status_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.casefold())


@functools.cache
def _status_by_key(languages: tuple[str, ...]) -> dict[str, str]:
    """A status as a file may write it → its code: the code ("NEW", "in_progress") or its label
    in any of `languages` ("New", "Новый"). Whoever imports it, a file written in either
    language reads the same. Built on first use, once per set of languages: at module import
    the catalogues may not be loaded yet, and only the default language would count."""
    lookup = {}
    for language in languages:
        with translation.override(language):
            lookup.update({_status_key(str(label)): code for code, label in Order.Status.choices})
    lookup.update({_status_key(code): code for code in Order.Status.values})
    return lookup


def status_by_key() -> dict[str, str]:
    return _status_by_key(tuple(code for code, _name in settings.LANGUAGES))


_DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})\Z")
_SLASHED = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); a date cell saved as a
# number holds that count: 46000 is 2025-12-09. Only five-digit counts (1927-05-18 to
# 2173-10-13, the range check below cutting at 2100) are read so: four digits are a year
# ("2026"), which read as a day count would silently be 1905-07-18.
_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
_EXCEL_DAY = re.compile(r"[0-9]{5}(\.[0-9]+)?\Z")
# Outside these years a date is a typo ("0001-01-01", "9999-12-31"), and near the ends of
# datetime's range the conversion to UTC on saving overflows (a 500 instead of a row error).
_YEARS = range(1900, 2101)


def parse_created_at(text: str) -> datetime.datetime:
    """An ISO date or time (with or without offset), the forms Excel writes (30.11.2026,
    11/30/2026 or 30/11/2026, with a time or without), or an Excel day number. A time without
    offset is in the business's time zone. Slashed dates that fit both ways (03/04/2026) are
    read day first. Raises ValueError, for a year outside 1900–2100 too."""
    text = text.strip()
    value = None
    with contextlib.suppress(ValueError):
        value = datetime.datetime.fromisoformat(text)
    if value is None and (match := _DOTTED_DATE.match(text)):  # 30.11.2026: the common case
        day, month, year = map(int, match.groups())
        value = datetime.datetime(year, month, day)
    if value is None:
        for pattern in _DATE_FORMATS:
            try:
                value = datetime.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if value is None and (match := _SLASHED.match(text)):
        first, second, year, hour, minute, second_s, meridiem = match.groups()
        day, month = int(first), int(second)
        if day <= 12 < month:  # 11/30/2026: month first
            day, month = month, day
        year = int(year) + (2000 if len(year) == 2 else 0)
        hour = int(hour or 0)
        if meridiem:
            hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
        value = datetime.datetime(year, month, day, hour, int(minute or 0), int(second_s or 0))
    if value is None and _EXCEL_DAY.match(text):
        value = _EXCEL_EPOCH + datetime.timedelta(days=float(text))
    if value is None or value.year not in _YEARS:
        raise ValueError(text)
    if timezone.is_naive(value):
        try:
            value = timezone.make_aware(value)
        except OverflowError as error:  # near datetime's limits: the row's error, not a 500
            raise ValueError(text) from error
    return value


class OrderRow:
    """Cleans {"client_email", "title", "amount", "status", "created_at"} as OrderForm does
    (title, amount, status), plus the client's email and an optional date."""

    def __init__(self):
        self.title = (OrderForm.base_fields["title"], Order._meta.get_field("title"))
        self.amount = (OrderForm.base_fields["amount"], Order._meta.get_field("amount"))
        self.status = (OrderForm.base_fields["status"], Order._meta.get_field("status"))

    def clean(self, values: dict[str, str]) -> tuple[dict, Errors]:
        errors: Errors = []
        cleaned = {"client_email": values.get("client_email", "").strip().lower()}
        if not cleaned["client_email"]:
            errors.append(("client_email", _("This field is required.")))
        cleaned["title"] = _clean(
            *self.title, unneutralise(values.get("title", "").strip()), errors, "title"
        )
        cleaned["amount"] = _clean(
            *self.amount, parse_amount(values.get("amount", "")), errors, "amount"
        )
        status = values.get("status", "").strip()
        status = status_by_key().get(_status_key(status), status) if status else Order.Status.NEW
        cleaned["status"] = _clean(*self.status, status, errors, "status")
        created = values.get("created_at", "").strip()
        cleaned["created_at"] = None
        if created:
            try:
                cleaned["created_at"] = parse_created_at(created)
            except (ValueError, OverflowError):
                errors.append(
                    (
                        "created_at",
                        _("Enter a date such as 2026-11-30, 30.11.2026 or 11/30/2026 14:05."),
                    )
                )
        return cleaned, errors


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"
