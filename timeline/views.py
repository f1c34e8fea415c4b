"""The pages of notes and tasks: added from the client page (and edited, deleted or ticked off
from it and from /tasks/), the note search at /notes/, my tasks at /tasks/, and the client's
timeline as a fragment for "show older" and the live page.

Each view names the permission its action needs (clients/permissions.py); editing or deleting
someone else's note or task also needs the moderate permission (timeline/services.py), else
the 403 page and nothing changes."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.generic import FormView, ListView, TemplateView, UpdateView

from clients import permissions
from clients.models import Client
from timeline import selectors, services
from timeline.forms import NoteForm, TaskDoneForm, TaskForm, default_due
from timeline.models import Note, Task


def with_rights(user, objects):
    """Mark each note or task with what `user` may do to it (`can_edit`, `can_delete`: the
    services' rule) and where (`edit_url`, `delete_url`, `done_url`), for the templates.

    The URLs are built from one reverse() of each kind, not two {% url %} a row: reversing
    was a fifth of the client page's rendering (bench/timeline.py)."""
    notes_base = reverse("timeline:note_add", args=[0]).removesuffix("0/notes/add/")
    tasks_base = reverse("timeline:tasks")
    for obj in objects:
        if isinstance(obj, Note):
            obj.can_edit = services.may_edit_note(user, obj)
            obj.can_delete = services.may_delete_note(user, obj)
            base = f"{notes_base}{obj.client_id}/notes/{obj.pk}/"
            obj.edit_url, obj.delete_url = f"{base}edit/", f"{base}delete/"
        elif isinstance(obj, Task):
            obj.can_edit = services.may_edit_task(user, obj)
            obj.can_delete = services.may_delete_task(user, obj)
            base = f"{tasks_base}{obj.pk}/"
            obj.edit_url, obj.delete_url = f"{base}edit/", f"{base}delete/"
            obj.done_url = f"{base}done/"
    return objects


# What each kind of the timeline needs to be seen (the history: the client's).
KIND_PERMISSIONS = {
    "change": permissions.VIEW_CLIENT,
    "note": permissions.VIEW_NOTE,
    "order": permissions.VIEW_ORDER,
    "task": permissions.VIEW_TASK,
}


def timeline_context(request, client: Client) -> dict:
    """What the client page's timeline shows: one page of items (?before=, ?kind=) of the kinds
    the user may see, and the open tasks ("Next up")."""
    user = request.user
    visible = tuple(kind for kind in selectors.KINDS if user.has_perm(KIND_PERMISSIONS[kind]))
    kind = request.GET.get("kind", "")
    kinds = (kind,) if kind in visible else visible
    page = selectors.timeline_page(
        client_id=client.pk,
        kinds=kinds,
        user=user,
        before=selectors.Cursor.parse(request.GET.get("before")),
    )
    with_rights(request.user, [item.obj for item in page.items])
    older_url = None
    if page.older is not None:
        params = {"before": str(page.older), **({"kind": kind} if kind in visible else {})}
        older_url = f"?{urlencode(params)}"
    return {
        "timeline": page,
        "timeline_kind": kind if kind in visible else "",
        "timeline_kinds": [
            (value, label)
            for value, label in [
                ("", _("Everything")),
                ("note", _("Notes")),
                ("task", _("Tasks")),
                ("order", _("Orders")),
                ("change", _("Changes")),
            ]
            if not value or value in visible
        ],
        "timeline_older_url": older_url,
        "timeline_is_first_page": "before" not in request.GET,
        "next_tasks": with_rights(
            user,
            list(Task.objects.open().filter(client=client).select_related("assignee")[:5]),
        )
        if "task" in visible
        else None,
        "now": timezone.now(),
    }


def composer_context(request, client: Client) -> dict:
    user = request.user
    return {
        "note_form": NoteForm(prefix="note") if user.has_perm(permissions.ADD_NOTE) else None,
        "task_form": (
            TaskForm(prefix="task", initial={"assignee": user.pk, "due_at": default_due()})
            if user.has_perm(permissions.ADD_TASK)
            else None
        ),
    }


def _back(request, default: str) -> str:
    """Where to go after a write: the `next` the form sent when it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class ClientTimelineMixin(PermissionRequiredMixin):
    def get_client(self) -> Client:
        if not hasattr(self, "client_obj"):
            self.client_obj = get_object_or_404(Client, pk=self.kwargs["pk"])
        return self.client_obj

    def client_url(self) -> str:
        return reverse("clients:detail", args=[self.get_client().pk]) + "#timeline"

    def get_success_url(self) -> str:
        return _back(self.request, self.client_url())

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.get_client(), **kwargs)


# --- Notes -----------------------------------------------------------------------------------
class NoteCreateView(ClientTimelineMixin, FormView):
    """POST from the client page's composer; on an error, this page shows the form again."""

    permission_required = permissions.ADD_NOTE
    form_class = NoteForm
    prefix = "note"
    template_name = "timeline/note_form.html"

    def form_valid(self, form):
        services.note_create(
            client_id=self.get_client().pk, author=self.request.user, body=form.cleaned_data["body"]
        )
        messages.success(self.request, _("Note added."))
        return redirect(self.get_success_url())


class AllowedObjectMixin:
    """The object from the URL if the user may act on it (`allowed`, one of the services'
    may_* rules: their own, or anyone's with the moderate permission), else the 403 page."""

    allowed = None

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not self.allowed(self.request.user, obj):
            raise PermissionDenied
        return obj


class NoteObjectMixin(AllowedObjectMixin, ClientTimelineMixin):
    """The note from the URL, of the client in the URL (404 otherwise), if the user may."""

    model = Note
    pk_url_kwarg = "note_id"
    allowed = staticmethod(services.may_edit_note)

    def get_queryset(self):
        return Note.objects.filter(client=self.get_client())


class NoteUpdateView(NoteObjectMixin, UpdateView):
    permission_required = permissions.CHANGE_NOTE
    form_class = NoteForm
    template_name = "timeline/note_form.html"

    def form_valid(self, form):
        services.note_update(note=self.object, body=form.cleaned_data["body"])
        messages.success(self.request, _("Note saved."))
        return redirect(self.get_success_url())


class NoteDeleteView(NoteObjectMixin, UpdateView):
    """GET asks, POST deletes."""

    permission_required = permissions.DELETE_NOTE
    allowed = staticmethod(services.may_delete_note)
    fields: list[str] = []
    template_name = "timeline/note_confirm_delete.html"

    def form_valid(self, form):
        services.note_delete(note=self.object)
        messages.success(self.request, _("Note deleted."))
        return redirect(self.get_success_url())


class NoteSearchView(PermissionRequiredMixin, ListView):
    """/notes/?q=: every client's notes containing the words, newest first, 25 a page."""

    permission_required = (permissions.VIEW_NOTE, permissions.VIEW_CLIENT)
    paginate_by = 25
    context_object_name = "notes"
    template_name = "timeline/note_search.html"

    def get_queryset(self):
        self.q = self.request.GET.get("q", "").strip()
        return selectors.notes_search(q=self.q)

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(q=self.q, **kwargs)
        context["page_range"] = context["paginator"].get_elided_page_range(
            context["page_obj"].number
        )
        return context


# --- Tasks -----------------------------------------------------------------------------------
class TaskCreateView(ClientTimelineMixin, FormView):
    permission_required = permissions.ADD_TASK
    form_class = TaskForm
    prefix = "task"
    template_name = "timeline/task_form.html"

    def form_valid(self, form):
        services.task_create(
            client_id=self.get_client().pk, created_by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Task added."))
        return redirect(self.get_success_url())


class TaskObjectMixin(AllowedObjectMixin, PermissionRequiredMixin):
    """The task from the URL (of any client: /tasks/ lists them all), if the user may."""

    model = Task
    pk_url_kwarg = "task_id"
    allowed = staticmethod(services.may_edit_task)

    def get_queryset(self):
        return Task.objects.select_related("client")

    def get_success_url(self) -> str:
        client_url = reverse("clients:detail", args=[self.object.client_id])
        return _back(self.request, client_url + "#timeline")

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.object.client, **kwargs)


class TaskUpdateView(TaskObjectMixin, UpdateView):
    permission_required = permissions.CHANGE_TASK
    form_class = TaskForm
    template_name = "timeline/task_form.html"

    def form_valid(self, form):
        services.task_update(task=self.object, **form.cleaned_data)
        messages.success(self.request, _("Task saved."))
        return redirect(self.get_success_url())


class TaskDoneView(TaskObjectMixin, UpdateView):
    """POST only: tick a task off (done=1) or open it again (done absent or 0), then back."""

    permission_required = permissions.CHANGE_TASK
    form_class = TaskDoneForm
    http_method_names = ["post"]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance")
        return kwargs

    def form_valid(self, form):
        done = form.cleaned_data["done"]
        services.task_set_done(task=self.object, done=done)
        message = _("“%(title)s” is done.") if done else _("“%(title)s” is open again.")
        messages.success(self.request, message % {"title": self.object.title})
        return redirect(self.get_success_url())


class TaskDeleteView(TaskObjectMixin, UpdateView):
    permission_required = permissions.DELETE_TASK
    allowed = staticmethod(services.may_delete_task)
    fields: list[str] = []
    template_name = "timeline/task_confirm_delete.html"

    def form_valid(self, form):
        services.task_delete(task=self.object)
        messages.success(self.request, _("Task deleted."))
        return redirect(self.get_success_url())


class TaskListView(PermissionRequiredMixin, TemplateView):
    """/tasks/: my open tasks by default — overdue, then today's, then later ones — with filters
    by assignee (`?assignee=<id>` or `all`) and state (`?done=0`, `1` or `all`)."""

    permission_required = (permissions.VIEW_TASK, permissions.VIEW_CLIENT)
    template_name = "timeline/task_list.html"
    limit = 200

    def get_context_data(self, **kwargs):
        user, params = self.request.user, self.request.GET
        assignee = params.get("assignee", "")
        if not assignee:
            assignee_id = user.pk
        elif assignee.isascii() and assignee.isdigit() and len(assignee) < 19:
            assignee_id = int(assignee)
        else:
            assignee_id = None  # "all", or junk: everyone's
        done = {"0": False, "1": True, "all": None}.get(params.get("done", "0"), False)
        tasks = list(selectors.tasks_for(assignee_id=assignee_id, done=done)[: self.limit + 1])
        with_rights(user, tasks)
        now = timezone.localtime()
        end_of_today = now.replace(hour=23, minute=59, second=59, microsecond=999999)
        groups = {"overdue": [], "today": [], "later": [], "done": []}
        for task in tasks[: self.limit]:
            if task.done:
                groups["done"].append(task)
            elif task.due_at < now:
                groups["overdue"].append(task)
            elif task.due_at <= end_of_today:
                groups["today"].append(task)
            else:
                groups["later"].append(task)
        return super().get_context_data(
            groups=[
                ("overdue", _("Overdue"), groups["overdue"]),
                ("today", _("Today"), groups["today"]),
                ("later", _("Later"), groups["later"]),
                ("done", pgettext("tasks", "Done"), groups["done"]),
            ],
            tasks_count=min(len(tasks), self.limit),
            more_tasks=len(tasks) > self.limit,
            assignee=assignee,
            done_filter=params.get("done", "0") if params.get("done") in ("1", "all") else "0",
            users=list(services.assignable_users().order_by("username")),
            mine=assignee_id == user.pk,
            now=now,
            **kwargs,
        )


class ClientTimelineView(ClientTimelineMixin, TemplateView):
    """GET /clients/<id>/timeline/[?before=&kind=]: one page of the timeline's items as HTML,
    for "show older" and the live page (timeline/static/timeline/timeline.js)."""

    permission_required = (permissions.VIEW_CLIENT, permissions.VIEW_ORDER)
    template_name = "timeline/includes/items.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(timeline_context(self.request, self.get_client()))
        # The items' forms come back to the client page, not to this fragment.
        context["back_url"] = self.client_url()
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        older = context["timeline"].older
        response["X-Timeline-Older"] = str(older) if older else ""
        response["Cache-Control"] = "private, no-store"
        return response
