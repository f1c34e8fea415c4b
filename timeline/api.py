"""/api/notes/ and /api/tasks/: a client's notes and follow-up tasks for scripts, on the services
the pages use (timeline/services.py). Mounted by api/urls.py.

Reading needs `timeline.view_note` / `view_task`, whatever API_PUBLIC_READ says: notes and
tasks are what was said about people, never public. Writing needs staff status and the add,
change or delete permission (api.permissions.ModelPermissions), and then the object rule of
timeline.services: Sales change and delete their own (a note's author; a task's creator or
assignee), Managers (`moderate_*`) anyone's. Every write is recorded in the client's history
(via "api", by the token's or the session's user).
"""

import datetime
import re

import django_filters
from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions
from rest_framework.routers import SimpleRouter

from api.filters import IdFilter, StrictBooleanFilter
from api.permissions import ModelPermissions
from api.schema import NEVER_PUBLIC
from clients.models import Client
from timeline import markdown, services
from timeline.models import NOTE_MAX_LENGTH, Note, Task

# --- Permissions ----------------------------------------------------------------------------


class PrivateModelPermissions(ModelPermissions):
    """ModelPermissions (the view permission to read; staff status and add/change/delete to
    write), with no anonymous reads even when API_PUBLIC_READ opens the clients' and orders'."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method not in SAFE_METHODS and not user.is_staff:
            return False
        return DjangoModelPermissions.has_permission(self, request, view)


class _MayChangeOwn(BasePermission):
    """The object rule of timeline.services (`may_edit_*`, `may_delete_*`), after the model
    permission: a Sales user changes or deletes only their own, a Manager anyone's (403)."""

    may_edit = may_delete = None

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        may = self.may_delete if request.method == "DELETE" else self.may_edit
        return may(request.user, obj)


class MayChangeOwnNote(_MayChangeOwn):
    message = _("Only the note's author or a manager may change or delete it.")
    may_edit = staticmethod(services.may_edit_note)
    may_delete = staticmethod(services.may_delete_note)


class MayChangeOwnTask(_MayChangeOwn):
    message = _("Only the task's creator, its assignee or a manager may change or delete it.")
    may_edit = staticmethod(services.may_edit_task)
    may_delete = staticmethod(services.may_delete_task)


# --- Serializers ----------------------------------------------------------------------------


class ClientField(serializers.PrimaryKeyRelatedField):
    """The client's id. Set when the note or task is added; an edit cannot move it to another
    client (the history and the timeline keep it where it was written)."""

    default_error_messages = {
        "does_not_exist": _("No client with id {pk_value}."),
        "moved": _("A note or task stays with its client: it cannot be moved."),
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Client.objects.all(), **kwargs)

    def to_internal_value(self, data):
        client = super().to_internal_value(data)
        instance = self.parent.instance if self.parent is not None else None
        if instance is not None and client.pk != instance.client_id:
            self.fail("moved")
        return client


class NoteSerializer(serializers.ModelSerializer):
    """A note in the Markdown subset of timeline/markdown.py: `body` as typed (trimmed),
    `body_html` as the pages show it (safe HTML). `author` is the writer's user id (null once
    that user is deleted), `author_name` their username."""

    client = ClientField()
    body = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        help_text=_("The note, in a small Markdown subset; not blank, at most 10,000 characters."),
    )
    body_html = serializers.SerializerMethodField(
        help_text=_("The note as HTML, safe to show as it is.")
    )
    author_name = serializers.CharField(source="author.username", read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = [
            "id",
            "client",
            "body",
            "body_html",
            "author",
            "author_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["author", "created_at", "updated_at"]

    def get_body_html(self, note: Note) -> str:
        return markdown.render(note.body)


@extend_schema_field(OpenApiTypes.INT)
class AssigneeField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        "does_not_exist": _("No active user with id {pk_value} who may do tasks."),
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=services.assignable_users(), **kwargs)


class StorableDateTimeField(serializers.DateTimeField):
    """A date and time that every database stores: out of range is the field's 400, where DRF
    raises an OverflowError (a 500) on a time without an offset near year 1 or 9999, and the
    SQLite adapter on one that is out of range in UTC."""

    def enforce_timezone(self, value):
        try:
            value = super().enforce_timezone(value)
            value.astimezone(datetime.UTC)
        except OverflowError:
            self.fail("overflow")
        return value


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that, left out, is left as it is: DRF reads a form without it as false (an
    unticked checkbox), which would reopen a done task on a form-encoded PUT."""

    default_empty_html = serializers.empty


class TaskSerializer(serializers.ModelSerializer):
    """A follow-up task. `assignee` is a user id (an active user; null only once that user is
    deleted); `done` true stamps `done_at`, false clears it. `created_by` is who added it."""

    client = ClientField()
    title = serializers.CharField(max_length=Task._meta.get_field("title").max_length)
    due_at = StorableDateTimeField()
    assignee = AssigneeField(help_text=_("The id of the active user who is to do it."))
    # Not required, and no default: a PUT without it leaves a done task done.
    done = OptionalBooleanField(required=False)

    class Meta:
        model = Task
        fields = [
            "id",
            "client",
            "title",
            "due_at",
            "assignee",
            "done",
            "done_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["done_at", "created_by", "created_at"]


# --- Filters --------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class MomentField(forms.Field):
    """An ISO 8601 date (`2025-06-30`: the start of that day) or date and time
    (`2025-06-30T17:00`, `...Z` or `...+02:00`); a date or a time without an offset is read in
    the current time zone. Anything else is a 400."""

    default_error_messages = {
        "invalid": _(
            "Enter an ISO 8601 date (2025-06-30) or date and time (2025-06-30T17:00:00Z)."
        ),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        try:
            if _DATE.fullmatch(value):
                moment = datetime.datetime.combine(
                    datetime.date.fromisoformat(value), datetime.time()
                )
            else:
                moment = parse_datetime(value)
            if moment is None:
                raise ValueError(value)
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            moment.astimezone(datetime.UTC)  # as the database stores it (SQLite: in UTC)
        except (ValueError, OverflowError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return moment


class MomentFilter(django_filters.Filter):
    field_class = MomentField


DUE_BEFORE = _(
    "Due before this moment: an ISO 8601 date and time (2025-06-30T17:00:00Z), or a date "
    "(2025-06-30: before that day starts); without an offset, in the server's time zone. "
    "Anything else is a 400."
)


class NoteFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id", label=_("Client id"))
    author = IdFilter(field_name="author_id", label=_("Author's user id"))

    class Meta:
        model = Note
        fields = ["client", "author"]


class TaskFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id", label=_("Client id"))
    assignee = IdFilter(field_name="assignee_id", label=_("Assignee's user id"))
    done = StrictBooleanFilter(label=_("true: done tasks only; false: open ones only."))
    # A string: a plain date is as welcome as a date and time.
    due_before = extend_schema_field({"type": "string", "description": DUE_BEFORE})(
        MomentFilter(field_name="due_at", lookup_expr="lt", label=DUE_BEFORE)
    )

    class Meta:
        model = Task
        fields = ["client", "assignee", "done", "due_before"]


# --- Views ----------------------------------------------------------------------------------


@extend_schema(extensions=NEVER_PUBLIC, tags=["notes"])
class NoteViewSet(viewsets.ModelViewSet):
    """Notes about clients, newest first. Filters: `client`, `author` (ids); `ordering`."""

    queryset = Note.objects.select_related("author")
    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    permission_classes = [PrivateModelPermissions, MayChangeOwnNote]
    ordering_fields = ["created_at"]  # each with an index (timeline/models.py)
    ordering = ["-created_at", "-id"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.note_create(
            client_id=data["client"].pk, author=self.request.user, body=data["body"]
        )

    def perform_update(self, serializer):
        if "body" in serializer.validated_data:
            serializer.instance = services.note_update(
                note=serializer.instance, body=serializer.validated_data["body"]
            )

    def perform_destroy(self, instance):
        services.note_delete(note=instance)


@extend_schema(extensions=NEVER_PUBLIC, tags=["tasks"])
class TaskViewSet(viewsets.ModelViewSet):
    """Follow-up tasks: open ones first, each by due time (as /tasks/ lists them). Filters:
    `client`, `assignee` (ids), `done`, `due_before`; `ordering`."""

    queryset = Task.objects.all()  # `client`, `assignee`, `created_by` are id columns: no join
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    permission_classes = [PrivateModelPermissions, MayChangeOwnTask]
    ordering_fields = ["due_at", "created_at"]
    ordering = ["done", "due_at", "id"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        with transaction.atomic():
            task = services.task_create(
                client_id=data["client"].pk,
                created_by=self.request.user,
                title=data["title"],
                due_at=data["due_at"],
                assignee=data["assignee"],
                done=bool(data.get("done")),
            )
        serializer.instance = task

    def perform_update(self, serializer):
        # The client cannot change (ClientField); what else was sent goes to the service.
        fields = {k: v for k, v in serializer.validated_data.items() if k != "client"}
        if fields:
            serializer.instance = services.task_update(task=serializer.instance, **fields)

    def perform_destroy(self, instance):
        services.task_delete(task=instance)


# Mounted by api/urls.py at /api/.
router = SimpleRouter()
router.register("notes", NoteViewSet, basename="note")
router.register("tasks", TaskViewSet, basename="task")
urlpatterns = router.urls
