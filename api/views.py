import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.response import Response

from api.filters import ClientFilter, OrderFilter, client_list_spec
from api.pagination import ClientPagination, OrderPagination
from api.permissions import CanMergeClients, CanRestoreClients
from api.serializers import (
    ClientMergeResultSerializer,
    ClientMergeSerializer,
    ClientRestoreSerializer,
    ClientSerializer,
    OrderSerializer,
)
from api.services import token_create, token_revoke
from clients.cache import TIMEOUT
from clients.models import Client, Order
from clients.permissions import MERGE_CLIENT
from clients.services import MergeError, TrashError, client_merge, client_restore, client_trash

# An id in the URL: ASCII digits only (str.isdigit() also takes "²", which int() refuses).
_ID = re.compile(r"[0-9]{1,18}")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with another one in progress: try again.")
    default_code = "conflict"


class ClientViewSet(viewsets.ModelViewSet):
    """Clients with their order totals. Filters: `vip`, `active`, `search`; `ordering`."""

    queryset = Client.objects.all()
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    pagination_class = ClientPagination
    # Each has an index ending with the id (clients/models.py); the totals are stored roll-ups.
    ordering_fields = ["name", "email", "created_at", "orders_count", "orders_total"]
    ordering = ["-created_at", "-id"]

    def filter_queryset(self, queryset):
        """The list is the web list's query (clients.selectors.ClientListSpec, `list_spec`),
        from the same parameters validated by the same filter backends (their 400s); other
        actions filter as usual."""
        if self.action != "list":
            return super().filter_queryset(queryset)
        self.list_spec = client_list_spec(self.request, self)
        return self.list_spec.queryset()

    def list(self, request, *args, **kwargs):
        """ListModelMixin.list, with the serialized page cached beside the page's count
        (api.pagination.ClientPagination): a repeated page runs no query and no serializer."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.paginator.cached_data
        if data is None:
            data = self.get_serializer(page, many=True).data
            if self.paginator.page.cache_key is not None:
                cache.set(self.paginator.page.cache_key, data, TIMEOUT)
        return self.get_paginated_response(data)

    def perform_create(self, serializer):
        _save_unique_email(serializer)

    def perform_update(self, serializer):
        _save_unique_email(serializer)

    def perform_destroy(self, instance):
        """A delete moves the client and its orders to the trash (restorable for TRASH_DAYS:
        `POST /api/clients/<id>/restore/`)."""
        try:
            client_trash(client_id=instance.pk, user=self.request.user)
        except TrashError as error:
            if error.code == "not_found":
                raise NotFound(str(error)) from None
            raise Conflict(str(error)) from None

    @extend_schema(
        request=ClientRestoreSerializer,
        responses={
            200: ClientSerializer,
            409: OpenApiResponse(
                description="A live client has its email now (`code` email_taken, `client` "
                "its id): restore with `into` that id to merge into it."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanRestoreClients])
    def restore(self, request, pk=None):
        """Bring a trashed client back with its orders, notes and tasks (its id is the one it
        had); with `into`, merge them into that live client instead (needs the merge
        permission too)."""
        payload = ClientRestoreSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        into = payload.validated_data.get("into")
        if into is not None and not request.user.has_perm(MERGE_CLIENT):
            raise PermissionDenied(_("Merging into a live client needs the merge permission."))
        if not _ID.fullmatch(pk):
            raise NotFound()
        try:
            result = client_restore(client_id=int(pk), into_id=into)
        except TrashError as error:
            if error.code == "email_taken":
                body = {"detail": str(error), "code": error.code, "client": error.client.pk}
                return Response(body, status=status.HTTP_409_CONFLICT)
            raise NotFound(str(error)) from None
        client = self.get_queryset().get(pk=result.client.pk)
        return Response(self.get_serializer(client).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=ClientMergeSerializer,
        responses={
            200: ClientMergeResultSerializer,
            409: OpenApiResponse(
                description="Another writer kept the clients' orders busy: nothing was merged; "
                "try again in a moment."
            ),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMergeClients])
    def merge(self, request, pk=None):
        """Merge the client `source` into this one (kept): its orders move here, empty phone
        and avatar are filled from it, VIP if either was; then `source` is deleted."""
        payload = ClientMergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if not _ID.fullmatch(pk):
            raise NotFound()
        try:
            result = client_merge(source_id=payload.validated_data["source"], target_id=int(pk))
        except MergeError as error:
            if error.code == "not_found":
                raise NotFound(str(error)) from None
            if error.code == "busy":
                raise Conflict(str(error)) from None
            raise serializers.ValidationError({"source": [str(error)]}) from None
        client = self.get_queryset().get(pk=result.target.pk)
        body = {"orders_moved": result.orders_moved, "client": client}
        return Response(
            ClientMergeResultSerializer(body, context=self.get_serializer_context()).data,
            status=status.HTTP_200_OK,
        )


def _save_unique_email(serializer) -> None:
    """Save, turning a lost race on the unique email into the usual 400.

    The serializer's UniqueValidator checks first, but two requests for the same new address
    can both pass the check; the database constraint then refuses the second one.
    """
    try:
        with transaction.atomic():
            serializer.save()
    except IntegrityError:
        if not Client.objects.filter(email=serializer.validated_data.get("email", "")).exists():
            raise
        raise serializers.ValidationError(
            {"email": [Client._meta.get_field("email").error_messages["unique"]]}
        ) from None


class OrderViewSet(viewsets.ModelViewSet):
    """Orders. Filters: `status`, `client` (id); `ordering`."""

    queryset = Order.objects.all()
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    pagination_class = OrderPagination
    ordering_fields = ["created_at", "amount", "status"]
    ordering = ["-created_at", "-id"]

    # Each write one transaction with its history entry (history/).
    @transaction.atomic
    def perform_create(self, serializer):
        serializer.save()

    @transaction.atomic
    def perform_update(self, serializer):
        serializer.save()


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI that fits the site's CSP: the init script is a separate file (the split
    view) and the page's few inline styles moved to a static stylesheet."""

    template_name = "api/swagger_ui.html"


# --- The account page: a user's own API token ---------------------------------------------------
NEW_TOKEN_SESSION_KEY = "api_new_token"


@login_required
@never_cache  # the page may show a key: no cache keeps it
@require_http_methods(["GET", "POST"])
def account_token(request: HttpRequest) -> HttpResponse:
    """GET shows whether the user has a token (masked); POST makes a new one, replacing it, then
    redirects to the page, which shows its key this once. The key waits in the session for that
    one GET (the token table holds it anyway): answering the POST itself would make a reload
    re-send it and silently replace the key just copied."""
    if request.method == "POST":
        request.session[NEW_TOKEN_SESSION_KEY] = token_create(user=request.user).key
        return redirect("account-token")
    new_key = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    token = Token.objects.filter(user=request.user).first()
    return render(request, "api/account_token.html", {"token": token, "new_key": new_key})


@login_required
@require_POST
def account_token_revoke(request: HttpRequest) -> HttpResponse:
    if token_revoke(user_id=request.user.pk):
        messages.success(request, _("Your API token was revoked: it no longer works."))
    return redirect("account-token")
