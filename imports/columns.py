"""Which column of a file holds which field: matched from the headers (field names and the
synonyms spreadsheets use, in any case and spelling), adjustable by the user."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    """A field an import fills: its name, its label, whether a file must have it, and the
    headers that mean it (compared without case, spaces or punctuation)."""

    field: str
    label: str
    required: bool
    synonyms: tuple[str, ...]


CLIENT_COLUMNS = (
    Column(
        "name",
        _("Name"),
        True,
        (
            "name", "full name", "fullname", "client", "client name", "customer",
            "customer name", "company", "company name", "organisation", "organization",
            "contact", "contact name", "account", "account name", "имя", "фио", "клиент",
            "название", "компания",
        ),
    ),
    Column(
        "email",
        _("Email"),
        True,
        (
            "email", "e-mail", "e mail", "email address", "e-mail address", "mail",
            "electronic mail", "client email", "customer email", "почта", "электронная почта",
            "адрес электронной почты",
        ),
    ),
    Column(
        "phone",
        _("Phone"),
        False,
        (
            "phone", "telephone", "phone number", "telephone number", "tel", "mobile",
            "mobile phone", "mobile number", "cell", "cell phone", "phone no", "work phone",
            "телефон", "мобильный",
        ),
    ),
)  # fmt: skip

ORDER_COLUMNS = (
    Column(
        "client_email",
        _("Client email"),
        True,
        (
            "client email", "client e-mail", "customer email", "email", "e-mail",
            "email address", "client", "customer", "почта клиента", "email клиента",
        ),
    ),
    Column(
        "title",
        _("Title"),
        True,
        (
            "title", "order", "order title", "order name", "description", "item", "product",
            "subject", "name", "название", "заказ",
        ),
    ),
    Column(
        "amount",
        _("Amount"),
        True,
        ("amount", "total", "price", "sum", "value", "order total", "сумма", "стоимость"),
    ),
    Column("status", _("Status"), False, ("status", "state", "stage", "статус")),
    Column(
        "created_at",
        _("Created at"),
        False,
        (
            "created at", "created", "date", "order date", "created on", "date created",
            "creation date", "дата", "дата заказа", "создан",
        ),
    ),
)  # fmt: skip

COLUMNS = {"clients": CLIENT_COLUMNS, "orders": ORDER_COLUMNS}


def header_key(text: str) -> str:
    """'E-mail ', 'email_address' and 'Email Address:' all give 'emailaddress'."""
    return re.sub(r"[\W_]+", "", text.casefold())


def auto_mapping(kind: str, header: list[str]) -> dict[str, int]:
    """field -> index of the column that holds it, from the headers alone. An exact field name
    beats a synonym; between equals the leftmost column wins; a column feeds one field."""
    keys = [header_key(text) for text in header]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for exact in (True, False):
        for column in COLUMNS[kind]:
            if column.field in mapping:
                continue
            wanted = (
                {header_key(column.field)}
                if exact
                else {header_key(synonym) for synonym in column.synonyms}
            )
            for index, key in enumerate(keys):
                if index not in taken and key and key in wanted:
                    mapping[column.field] = index
                    taken.add(index)
                    break
    return mapping


def clean_mapping(kind: str, header: list[str], chosen: dict[str, str | int | None]) -> dict:
    """The user's choice (field -> column index, or blank for "not imported") made safe: an
    index outside the header or a column chosen twice is dropped (the first field keeps it)."""
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for column in COLUMNS[kind]:
        value = chosen.get(column.field)
        try:
            index = int(value)
        except (TypeError, ValueError):
            continue
        if 0 <= index < len(header) and index not in taken:
            mapping[column.field] = index
            taken.add(index)
    return mapping


def ignored_columns(header: list[str], mapping: dict[str, int]) -> list[str]:
    """The headers no field reads (shown as "ignored")."""
    used = set(mapping.values())
    return [text or f"#{index + 1}" for index, text in enumerate(header) if index not in used]


def missing_columns(kind: str, mapping: dict[str, int]) -> list[Column]:
    return [column for column in COLUMNS[kind] if column.required and column.field not in mapping]
