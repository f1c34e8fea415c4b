"""The history in the admin: every entry, read-only for everyone (superusers included: no add,
change or delete, not even through the URL), and the History page of a client or an order
(HistoryAdminMixin, used by clients/admin.py) listing our entries instead of the admin's own
log, which knows only what was done in the admin."""

from auditlog import admin as auditlog_admin  # noqa: F401  (registered first: replaced below)
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from history.display import EMPTY, actor_text, change_rows, headline
from history.models import Entry

SUMMARY_CHARS = 120  # the list's changes column; the entry's own page shows them all


# --- How an entry reads (history/display.py) ----------------------------------------------


def summary(entry: Entry) -> str:
    """One line: the headline, then "field: old → new; …"."""
    parts = [headline(entry)] if entry.event else []
    for label, old, new in change_rows(entry):
        label = capfirst(label)
        if entry.action == Entry.Action.CREATE:
            parts.append(f"{label}: {new}")
        else:
            parts.append(f"{label}: {old} → {new}")
    return "; ".join(part for part in parts if part)


def what_happened(entry: Entry) -> str:
    """The action, or the bulk event that made it ("merge", "import", "import reverted")."""
    return entry.get_event_display() if entry.event else entry.get_action_display()


def object_link(entry: Entry) -> str:
    """The object's type and name, linked to its admin page while it exists."""
    content_type = entry.content_type
    text = _("%(type)s “%(name)s”") % {
        "type": capfirst(content_type.name),
        "name": entry.object_repr,
    }
    if entry.action == Entry.Action.DELETE or entry.object_id is None:
        return text
    try:
        url = reverse(
            f"admin:{content_type.app_label}_{content_type.model}_change", args=[entry.object_id]
        )
    except NoReverseMatch:
        return text
    return format_html('<a href="{}">{}</a>', url, text)


def client_history_link(client_id: int | None) -> str:
    if client_id is None:
        return EMPTY
    try:
        url = reverse("admin:clients_client_history", args=[client_id])
    except NoReverseMatch:
        return f"#{client_id}"
    return format_html('<a href="{}">#{}</a>', url, client_id)


# --- The entries' admin ---------------------------------------------------------------------


class ContentTypeFilter(admin.SimpleListFilter):
    """By the kind of object: only the models that have a history (and the imports), not every
    content type of the project."""

    title = gettext_lazy("object type")
    parameter_name = "content_type"

    def lookups(self, request, model_admin):
        # The imports' own entries (a batch, a revert) are about the Import row: by name, as
        # the history imports no domain app.
        models = [*auditlog.get_models(), apps.get_model("imports", "Import")]
        types = ContentType.objects.get_for_models(*models).values()
        return sorted(((str(ct.pk), capfirst(ct.name)) for ct in types), key=lambda t: t[1])

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isascii() and value.isdigit() and len(value) < 19:
            return queryset.filter(content_type_id=int(value))
        return queryset


# django-auditlog's own admin registers the entry model it writes (it would allow the deletes
# its cascade needs, and lists none of our columns): imported first (above), whichever app's
# admin loads this module, so that ours replaces it.
if admin.site.is_registered(Entry):
    admin.site.unregister(Entry)


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """Every history entry, newest first: who, when, through what, what changed. Read-only."""

    list_display = [
        "timestamp",
        "actor_label_text",
        "via",
        "what",
        "subject",
        "client",
        "changes_summary",
    ]
    list_filter = ["via", "action", "event", ContentTypeFilter]
    # Exact ids ("=") are matched only by a number; names by part.
    search_fields = ["object_repr", "actor_label", "=object_id", "=client_id"]
    search_help_text = gettext_lazy(
        "The object's name, who made the change, or an object's or client's id."
    )
    list_select_related = ["content_type"]
    list_per_page = 50
    # No COUNT(*) of the whole history beside a filtered list's count.
    show_full_result_count = False
    actions = None
    fields = [
        "timestamp",
        "actor_label_text",
        "actor",
        "via",
        "what",
        "subject",
        "object_id",
        "client",
        "headline_text",
        "changes_table",
        "additional_data",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The row as it was (auditlog's serialized_data) is not shown: never read.
        return super().get_queryset(request).defer("serialized_data")

    # Read-only for everyone: superusers hold every permission, so each is refused here.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # The stored label, its fixed words ("system") in the reader's language (history/display.py).
    @admin.display(description=Entry._meta.get_field("actor_label").verbose_name)
    def actor_label_text(self, entry: Entry) -> str:
        return actor_text(entry)

    @admin.display(description=gettext_lazy("what"))
    def what(self, entry: Entry) -> str:
        return what_happened(entry)

    @admin.display(description=gettext_lazy("object"))
    def subject(self, entry: Entry) -> str:
        return object_link(entry)

    @admin.display(description=gettext_lazy("client"), ordering="client_id")
    def client(self, entry: Entry) -> str:
        return client_history_link(entry.client_id)

    @admin.display(description=gettext_lazy("changes"))
    def changes_summary(self, entry: Entry) -> str:
        return Truncator(summary(entry)).chars(SUMMARY_CHARS)

    @admin.display(description=gettext_lazy("what it did"))
    def headline_text(self, entry: Entry) -> str:
        return headline(entry) or EMPTY

    @admin.display(description=gettext_lazy("changes"))
    def changes_table(self, entry: Entry) -> str:
        rows = change_rows(entry)
        if not rows:
            return EMPTY
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody>"
            "</table>",
            _("field"),
            _("before"),
            _("after"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((capfirst(label), old, new) for label, old, new in rows),
            ),
        )


# --- A model's History page -----------------------------------------------------------------


class HistoryAdminMixin:
    """A ModelAdmin whose History button lists the object's history entries (history/), newest
    first, paginated, read-only, to whoever may view the object in the admin. The history of
    a deleted object stays readable at the same address."""

    object_history_template = "history/admin/object_history.html"
    history_per_page = 50

    def history_entries(self, request, object_id: int) -> QuerySet:
        """The entries this History page lists: by default, the object's own."""
        content_type = ContentType.objects.get_for_model(self.model)
        return Entry.objects.filter(content_type=content_type, object_id=object_id).order_by(
            "-timestamp", "-id"
        )

    def history_view(self, request, object_id, extra_context=None):
        try:
            pk = int(unquote(object_id))
        except ValueError:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        obj = self.get_object(request, str(pk))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = (
            self.history_entries(request, pk)
            .select_related("content_type")
            .defer("serialized_data")
        )
        if obj is None and not entries.exists():
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)

        paginator = self.get_paginator(request, entries, self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        rows = [
            {
                "entry": entry,
                "what": what_happened(entry),
                "object": object_link(entry),
                "headline": headline(entry),
                "changes": change_rows(entry),
            }
            for entry in page
        ]
        name = (
            str(obj)
            if obj is not None
            else _("deleted %(name)s #%(id)s")
            % {
                "name": self.opts.verbose_name,
                "id": pk,
            }
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %s") % name,
            "subtitle": None,
            "object": obj,
            "object_name": name,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "rows": rows,
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.num_pages > 1,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)
