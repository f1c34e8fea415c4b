"""The timeline's template tags: the client page's timeline, notes' Markdown, and how a
history entry reads there (its fields in words from history/display.py, and a headline said
from the client page's side)."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from history.display import change_rows
from history.display import headline as bulk_headline
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


@register.simple_tag
def entry_summary(entry: Entry) -> dict:
    """{"headline": …, "rows": [(label, old, new), …]} for a history entry."""
    kind = entry.content_type.model
    rows = change_rows(entry)
    data = entry.additional_data or {}
    if entry.event == Entry.Event.MERGE:
        # Said from the kept client's page, where the timeline shows it.
        source = data.get("source", {})
        moved = data.get("orders_moved", 0)
        headline = _("Merged “%(name)s” <%(email)s> into this client: %(moved)s orders moved") % {
            "name": source.get("name", "?"),
            "email": source.get("email", "?"),
            "moved": moved,
        }
    elif entry.event:
        headline = bulk_headline(entry)
    elif kind == "task" and list(entry.changes or {}) == ["done"]:
        done = (entry.changes or {})["done"][1]
        headline = (_("Task “%(object)s” done") if done else _("Task “%(object)s” reopened")) % {
            "object": entry.object_repr
        }
        rows = []
    else:
        template_ = str(HEADLINES.get((kind, entry.action), _("%(object)s changed")))
        headline = template_ % {"object": entry.object_repr} if "%(" in template_ else template_
    return {"headline": headline, "rows": rows}
