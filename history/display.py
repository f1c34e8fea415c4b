"""How a history entry reads, in words: its changed fields and, for a bulk entry (an import's
batch, a revert), what it did. The admin (history/admin.py) and the client timeline
(timeline/templatetags/timeline.py) both show entries through these."""

import datetime
import decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from history import context
from history.models import Entry

EMPTY = "—"
# How history/context.py's Source.actor_label() words an API change; stored in English.
API_TOKEN_PREFIX = "API token of "


def actor_text(entry: Entry) -> str:
    """Who made the change, in the reader's language. The stored actor_label stays as it was
    written (a stable value the API and the search read); only its fixed words are translated
    here: "system" and "API token of <username>"."""
    label = entry.actor_label
    if label == context.SYSTEM:
        return _("system")
    if label.startswith(API_TOKEN_PREFIX):
        return _("API token of %(username)s") % {"username": label[len(API_TOKEN_PREFIX) :]}
    return label


def _field(model, name: str):
    try:
        return model._meta.get_field(name) if model is not None else None
    except FieldDoesNotExist:  # a field that has gone since
        return None


def value_text(field, value) -> str:
    """A stored change's value as a person reads it: a choice's label, yes/no, a related row's
    id, an amount in the reader's number format, a time in the current time zone and the
    reader's date format (auditlog writes datetimes as naive UTC text)."""
    if value in (None, ""):
        return EMPTY
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field is not None and field.many_to_one:
        return f"#{value}"
    if isinstance(field, models.DecimalField):
        # auditlog stores the amount as text ("1234.50"): in the reader's decimal format.
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return str(value)
        return number_format(number, decimal_pos=field.decimal_places, force_grouping=True)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=datetime.UTC)
            return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return str(value)


def change_rows(entry: Entry) -> list[tuple[str, str, str]]:
    """(field label, old, new) for each changed field, in words; a delete lists none, a create
    only the fields it set."""
    if entry.action == Entry.Action.DELETE:
        return []
    model = entry.content_type.model_class() if entry.content_type_id else None
    rows = []
    for name, pair in (entry.changes or {}).items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        field = _field(model, name)
        label = str(field.verbose_name) if field is not None else name
        rows.append((label, value_text(field, old), value_text(field, new)))
    if entry.action == Entry.Action.CREATE:
        rows = [row for row in rows if row[2] != EMPTY]
    return rows


def headline(entry: Entry) -> str:
    """What a bulk entry (a merge, an import's batch, a revert) did, in words; "" for others."""
    data = entry.additional_data or {}
    if entry.event == Entry.Event.MERGE:
        source = data.get("source") or {}
        moved = data.get("orders_moved", 0)
        return ngettext(
            "Merged in “%(name)s” (#%(id)s): %(moved)d order moved",
            "Merged in “%(name)s” (#%(id)s): %(moved)d orders moved",
            moved,
        ) % {"name": source.get("name", "?"), "id": source.get("id", "?"), "moved": moved}
    if entry.event == Entry.Event.IMPORT and "created" in data:
        created = data["created"]
        if data.get("model") == "order":
            text = ngettext(
                "Import #%(import)s (%(file)s): %(count)d order created",
                "Import #%(import)s (%(file)s): %(count)d orders created",
                created,
            )
        else:
            text = ngettext(
                "Import #%(import)s (%(file)s): %(count)d client created",
                "Import #%(import)s (%(file)s): %(count)d clients created",
                created,
            )
        return text % {
            "import": data.get("import", "?"),
            "file": data.get("file", "?"),
            "count": created,
        }
    if entry.event == Entry.Event.IMPORT:
        return _("Updated by import #%(import)s") % {"import": data.get("import", "?")}
    if entry.event == Entry.Event.REVERT and "clients_deleted" in data:
        return _(
            "Import #%(import)s (%(file)s) reverted: %(clients)s clients and %(orders)s orders "
            "deleted, %(restored)s clients put back"
        ) % {
            "import": data.get("import", "?"),
            "file": data.get("file", "?"),
            "clients": data.get("clients_deleted", 0),
            "orders": data.get("orders_deleted", 0),
            "restored": data.get("clients_restored", 0),
        }
    if entry.event in (Entry.Event.TRASH, Entry.Event.RESTORE):
        orders = data.get("orders", 0)
        if entry.event == Entry.Event.TRASH:
            text = ngettext(
                "Moved to the trash with its %(orders)d order",
                "Moved to the trash with its %(orders)d orders",
                orders,
            )
        else:
            text = ngettext(
                "Restored from the trash with its %(orders)d order",
                "Restored from the trash with its %(orders)d orders",
                orders,
            )
        return text % {"orders": orders}
    if entry.event == Entry.Event.REVERT:
        return _("Put back by the revert of import #%(import)s") % {
            "import": data.get("import", "?")
        }
    return ""
