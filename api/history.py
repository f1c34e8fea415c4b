"""GET /api/clients/<id>/history/: every recorded change of a client, its orders, notes and
tasks, newest first (timeline.selectors.client_history). Mounted by api/urls.py.

Each entry: `at` (when), `actor` (who: a username, "API token of <username>", or "system"),
`via` (page, admin, api, import or command), `action` (create, update, delete, or the batch's
event: merge, import, revert), `changes` ({field: [old, new]}), and `object` (what changed)
and `data` (what else the batch recorded) besides. Paginated as the other lists, 25 a page.

Reading needs `clients.view_client`, whatever API_PUBLIC_READ says: the history quotes every
value a client ever had. The entries of orders, notes or tasks are left out for a user who may
not view those.
"""

from django.urls import re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from api.pagination import PageNumberPagination
from api.schema import NEVER_PUBLIC
from clients import permissions
from clients.models import Client
from history.context import Via
from history.models import Entry
from history.selectors import client_history

ACTIONS = {
    Entry.Action.CREATE: "create",
    Entry.Action.UPDATE: "update",
    Entry.Action.DELETE: "delete",
}


class CanViewHistory(BasePermission):
    """`clients.view_client`, for an active user: API_PUBLIC_READ does not open the history."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and user.has_perm(permissions.VIEW_CLIENT)
        )


# --- Serializers ----------------------------------------------------------------------------


@extend_schema_field(
    serializers.ChoiceField(choices=[*ACTIONS.values(), *Entry.Event.values]),
    component_name="HistoryAction",
)
class ActionField(serializers.Field):
    """create, update or delete; or, for a change recorded once for a whole batch, its event."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, entry: Entry) -> str:
        return entry.event or ACTIONS.get(entry.action, str(entry.action))


class HistoryObjectSerializer(serializers.Serializer):
    type = serializers.CharField(
        source="content_type.model",
        help_text=_("What changed: client, order, note or task."),
    )
    id = serializers.IntegerField(source="object_id", allow_null=True)
    repr = serializers.CharField(
        source="object_repr", help_text=_("How it read when the change was recorded.")
    )


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="timestamp")
    actor = serializers.CharField(
        source="actor_label",
        help_text=_('Who: a username, "API token of <username>", or "system".'),
    )
    via = serializers.ChoiceField(choices=Via.choices, help_text=_("Through what."))
    action = ActionField()
    changes = serializers.SerializerMethodField(
        help_text=_("Each changed field with its old and new value: {field: [old, new]}.")
    )
    object = HistoryObjectSerializer(source="*")
    data = serializers.JSONField(
        source="additional_data",
        allow_null=True,
        help_text=_("What a merge, an import or a revert recorded beside the change."),
    )

    @extend_schema_field(
        serializers.DictField(
            child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2)
        )
    )
    def get_changes(self, entry: Entry) -> dict:
        return entry.changes or {}


# --- The view -------------------------------------------------------------------------------


class HistoryPagination(PageNumberPagination):
    page_size = 25


class ClientHistoryView(generics.ListAPIView):
    serializer_class = HistoryEntrySerializer
    permission_classes = [CanViewHistory]
    pagination_class = HistoryPagination
    filter_backends = []

    @extend_schema(
        operation_id="clients_history_list",
        summary="A client's history",
        description=(
            "Every recorded change of the client and of its orders, notes and tasks, newest "
            "first: when, who, through what, what (`action`, `object`) and how (`changes`: "
            "{field: [old, new]}). Needs `clients.view_client`; API_PUBLIC_READ does not open it."
        ),
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Client id")
        ],
        extensions=NEVER_PUBLIC,
        tags=["clients"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        raw = self.kwargs["id"]
        if not (raw.isascii() and raw.isdigit() and Client.objects.filter(pk=int(raw)).exists()):
            raise NotFound(_("No such client."))
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Entry.objects.none()
        entries = client_history(
            client_id=int(self.kwargs["id"]), user=self.request.user
        ).select_related("content_type")
        # Not read here: what django-auditlog may also store beside `changes`.
        return entries.defer("changes_text", "serialized_data")


# Mounted by api/urls.py at /api/. Any id reaches the view, which answers a JSON 404 for one
# that is not a client's.
urlpatterns = [
    re_path(
        r"^clients/(?P<id>[^/]+)/history/$", ClientHistoryView.as_view(), name="client-history"
    ),
]
