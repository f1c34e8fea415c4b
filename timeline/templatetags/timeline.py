"""How a timeline's history entry reads: a headline and its changed fields, in words."""

import datetime

from django import template
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from history.models import Entry
from timeline import markdown

register = template.Library()

register.filter("markdown", markdown.render)


@register.inclusion_tag("timeline/includes/client_page.html", takes_context=True)
def client_timeline(context, client) -> dict:
    """The client page's "Next up" and timeline: `{% client_timeline client %}` in the clients
    app's template, so that app's view needs to know nothing of notes and tasks."""
    from timeline.views import composer_context, timeline_context

    request = context["request"]
    return {
        "client": client,
        "request": request,
        "user": context["user"],
        "perms": context["perms"],
        "csrf_token": context.get("csrf_token"),
        **timeline_context(request, client),
        **composer_context(request, client),
    }


HEADLINES = {
    ("client", Entry.Action.CREATE): gettext_lazy("Client added"),
    ("client", Entry.Action.UPDATE): gettext_lazy("Client details changed"),
    ("order", Entry.Action.UPDATE): gettext_lazy("Order “%(object)s” changed"),
    ("order", Entry.Action.DELETE): gettext_lazy("Order “%(object)s” deleted"),
    ("note", Entry.Action.UPDATE): gettext_lazy("Note edited"),
    ("note", Entry.Action.DELETE): gettext_lazy("Note deleted"),
    ("task", Entry.Action.UPDATE): gettext_lazy("Task “%(object)s” changed"),
    ("task", Entry.Action.DELETE): gettext_lazy("Task “%(object)s” deleted"),
}


def _value(model, name: str, value) -> str:
    if value in (None, ""):
        return "—"
    try:
        field = model._meta.get_field(name)
    except Exception:  # a field that has gone since
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        # auditlog writes datetimes as naive UTC text.
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=datetime.UTC)
            return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if field.is_relation:
        return f"#{value}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "body":
        return str(value)[:200]
    return str(value)


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


@register.simple_tag
def entry_summary(entry: Entry) -> dict:
    """{"headline": …, "rows": [(label, old, new), …]} for a history entry."""
    model = entry.content_type.model_class()
    kind = entry.content_type.model
    rows = [
        (_label(model, name), _value(model, name, old), _value(model, name, new))
        for name, (old, new) in (entry.changes or {}).items()
    ]
    data = entry.additional_data or {}
    if entry.event == Entry.Event.MERGE:
        source = data.get("source", {})
        moved = data.get("orders_moved", 0)
        headline = _("Merged “%(name)s” <%(email)s> into this client: %(moved)s orders moved") % {
            "name": source.get("name", "?"),
            "email": source.get("email", "?"),
            "moved": moved,
        }
    elif entry.event == Entry.Event.IMPORT:
        headline = _("Updated by import #%(import)s") % {"import": data.get("import", "?")}
    elif entry.event == Entry.Event.REVERT:
        headline = _("Put back by the revert of import #%(import)s") % {
            "import": data.get("import", "?")
        }
    elif kind == "task" and list(entry.changes or {}) == ["done"]:
        done = (entry.changes or {})["done"][1]
        headline = (_("Task “%(object)s” done") if done else _("Task “%(object)s” reopened")) % {
            "object": entry.object_repr
        }
        rows = []
    else:
        template_ = str(HEADLINES.get((kind, entry.action), _("%(object)s changed")))
        headline = template_ % {"object": entry.object_repr} if "%(" in template_ else template_
    if entry.action == Entry.Action.CREATE or entry.action == Entry.Action.DELETE:
        rows = [row for row in rows if row[1] != "—" or row[2] != "—"]
        if entry.action == Entry.Action.DELETE:
            rows = []
    return {"headline": headline, "rows": rows}
