"""/api/clients/import/, /api/orders/import/ and /api/imports/<id>/: the imports of the web pages
for scripts, on the same services (imports/services.py). Mounted by api/urls.py.

A small file is committed within the request (201), a bigger one by the worker (202, then
`GET /api/imports/<id>/` follows it); a dry run only checks (200, nothing saved). Every answer,
refusals included, has one body: the import's outcome with its errors as
[{"line", "field", "message"}], so a script reads one shape whichever way it went.
"""

from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import CanImport
from imports import services
from imports.models import Import
from imports.readers import FileRefused

# --- Serializers ----------------------------------------------------------------------------


class StrictChoiceField(serializers.ChoiceField):
    """A choice that a blank value does not satisfy: DRF reads `on_duplicate=` in a form as
    "not sent" (the default), but a script that sends it blank meant something else."""

    def get_value(self, dictionary):
        if dictionary.get(self.field_name, None) == "":
            return ""  # validated, and refused, as any other word outside the choices
        return super().get_value(dictionary)


# A component of its own: as plain choice fields the two flags would be one choice set under
# two names (a schema warning).
@extend_schema_field(serializers.ChoiceField(choices=["true", "false"]), component_name="Flag")
class FlagField(StrictChoiceField):
    """`true` or `false` (in any case), as the contract spells them. DRF's BooleanField also
    takes 1/0, yes/no and on/off: a typo such as `skip_invalid=ture` must be a 400, not a
    silent false that refuses the commit for a reason the caller does not see."""

    def __init__(self, **kwargs):
        super().__init__(choices=["true", "false"], **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.lower()
        return super().to_internal_value(data) == "true"

    def get_default(self):
        # The default is spelled as the choices are (the schema shows it so); DRF hands it over
        # as it is, without to_internal_value.
        return super().get_default() == "true"


class ImportUploadSerializer(serializers.Serializer):
    """The multipart form of `POST /api/clients/import/` and `/api/orders/import/`."""

    # An empty file is the engine's to refuse, with the message the pages give.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=gettext_lazy(
            "A .csv (UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab) or an .xlsx "
            "workbook (its first sheet). The first row holds the column names."
        ),
    )
    on_duplicate = StrictChoiceField(
        choices=Import.OnDuplicate.choices,
        default=Import.OnDuplicate.SKIP,
        help_text=gettext_lazy(
            "A client whose email exists already: `skip` it, or `update` its name and phone "
            "(a blank cell never clears a field). Orders ignore it."
        ),
    )
    skip_invalid = FlagField(
        default="false",
        help_text=gettext_lazy(
            "`true`: commit the valid rows and report the invalid ones. `false`: any invalid "
            "row refuses the whole commit (400), nothing saved."
        ),
    )
    dry_run = FlagField(
        default="false",
        help_text=gettext_lazy("`true`: only check the file and say what it would do (200)."),
    )


# Its own component: as a plain choice field it would collide with the orders' `status` enum.
@extend_schema_field(
    serializers.ChoiceField(choices=Import.Status.choices), component_name="ImportStatus"
)
class ImportStatusField(serializers.ChoiceField):
    pass


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        help_text=gettext_lazy(
            "The line as a spreadsheet numbers it; 1 (the header) for the file or a parameter."
        )
    )
    field = serializers.CharField(
        help_text=gettext_lazy("The row's field, or `file`, or the parameter's name.")
    )
    message = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    """An import's outcome: the contract's fields (`id` to `errors`), then what else there is
    to know (its kind, why it failed or what a revert kept, the file, when)."""

    id = serializers.IntegerField(
        allow_null=True, read_only=True, help_text=gettext_lazy("Null for a dry run or a refusal.")
    )
    errors = ImportErrorSerializer(
        many=True,
        read_only=True,
        help_text=gettext_lazy("The first invalid rows' errors (or the file's)."),
    )
    status = ImportStatusField(choices=Import.Status.choices, read_only=True)
    kept = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=gettext_lazy("What a revert left in place, and why."),
    )
    created_at = serializers.DateTimeField(allow_null=True, read_only=True)

    class Meta:
        model = Import
        fields = [
            "id",
            "status",
            "rows",
            "created",
            "updated",
            "unchanged",
            "invalid",
            "errors",
            "kind",
            "message",
            "kept",
            "file_name",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportConflictSerializer(ImportSerializer):
    """The import as it is, and why the action was refused."""

    detail = serializers.CharField(read_only=True)

    class Meta(ImportSerializer.Meta):
        fields = [*ImportSerializer.Meta.fields, "detail"]
        read_only_fields = fields


def _unsaved(
    *, kind: str, file_name: str, status: str, errors: list, message: str = "", **counts
) -> dict:
    """The body of an import that has no record: a dry run, or a request refused."""
    return {
        "id": None,
        "status": status,
        "rows": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "invalid": 0,
        **counts,
        "errors": errors,
        "kind": kind,
        "message": message,
        "kept": [],
        "file_name": file_name,
        "created_at": None,
        "finished_at": None,
    }


# --- Views ----------------------------------------------------------------------------------

LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[201, 202],
    description=gettext_lazy("`/api/imports/<id>/`: where to follow the import."),
)


class ImportUploadView(APIView):
    """Check or commit one file of `kind`."""

    kind: str = ""
    permission_classes = [CanImport]
    parser_classes = [MultiPartParser]
    serializer_class = ImportUploadSerializer

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            200: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "Dry run: what the commit would do; `id` null, `status` pending, nothing saved."
                ),
            ),
            201: OpenApiResponse(
                ImportSerializer, description=gettext_lazy("Committed (`status` done).")
            ),
            202: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "A big file: the worker checks and commits it; `GET` its `Location`."
                ),
            ),
            400: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "Nothing saved: invalid rows refused the commit (`status` failed, with the "
                    "import's `id`), or the file or a parameter was refused (`id` null, the "
                    "`field` of each error names it)."
                ),
            ),
            409: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "Nothing saved: another writer changed these clients during the commit; "
                    "upload the file again."
                ),
            ),
        },
        parameters=[LOCATION],
        tags=["imports"],
    )
    def post(self, request):
        """Import a .csv or .xlsx file (multipart `file`). Columns are matched by their names
        (`name`, `email`, `phone` for clients; `client_email`, `title`, `amount`, `status`,
        `created_at` for orders, and the usual synonyms). Needs staff status and the
        `clients.import_client` permission."""
        upload = request.FILES.get("file")
        file_name = getattr(upload, "name", "") or ""
        form = self.serializer_class(data=request.data)
        if not form.is_valid():
            errors = [
                {"line": 1, "field": name, "message": str(message)}
                for name, messages in form.errors.items()
                for message in messages
            ]
            return self._refused(file_name, errors)
        params = form.validated_data
        upload = params["file"]
        try:
            if params["dry_run"]:
                return self._dry_run(upload, params)
            batch = services.import_create(
                user=request.user,
                kind=self.kind,
                upload=upload,
                on_duplicate=params["on_duplicate"],
                skip_invalid=params["skip_invalid"],
                require_columns=True,  # no page here to choose a column on
            )
        except FileRefused as refused:
            return self._refused(file_name, [services.file_error(refused.message)])
        background = services.runs_in_background(batch)
        batch = services.import_start_commit(
            import_id=batch.pk, skip_invalid=params["skip_invalid"]
        )
        location = {"Location": reverse("api:import-detail", args=[batch.pk])}
        body = ImportSerializer(batch).data
        if background:
            return Response(body, status=status.HTTP_202_ACCEPTED, headers=location)
        if batch.status == Import.Status.DONE:
            return Response(body, status=status.HTTP_201_CREATED, headers=location)
        # Refused for its invalid rows, or for the file itself once its rows were read (no
        # column for a required field, no rows: nothing counted): the caller's to fix.
        if services.commit_refusal(batch, params["skip_invalid"]) or not batch.rows:
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        # Rows fit to commit, yet not done: another request got in the way (a writer that
        # clashed on an email, or a Cancel): sending the file again may well succeed.
        return Response(body, status=status.HTTP_409_CONFLICT)

    def _dry_run(self, upload, params) -> Response:
        analysis = services.analyse_upload(
            upload, name=upload.name, kind=self.kind, on_duplicate=params["on_duplicate"]
        )
        body = _unsaved(
            kind=self.kind,
            file_name=upload.name,
            status=Import.Status.PENDING,
            errors=analysis.errors,
            rows=analysis.rows,
            created=analysis.created,
            updated=analysis.updated,
            unchanged=analysis.unchanged,
            invalid=analysis.invalid,
            # What the commit would answer with these choices ("" when it would go ahead).
            message=services.commit_refusal(analysis, params["skip_invalid"]),
        )
        return Response(ImportSerializer(body).data, status=status.HTTP_200_OK)

    def _refused(self, file_name: str, errors: list[dict]) -> Response:
        body = _unsaved(
            kind=self.kind,
            file_name=file_name,
            status=Import.Status.FAILED,
            errors=errors,
            message=errors[0]["message"],
        )
        return Response(ImportSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)


class ClientImportView(ImportUploadView):
    kind = Import.Kind.CLIENTS


class OrderImportView(ImportUploadView):
    kind = Import.Kind.ORDERS


class ImportDetailView(generics.RetrieveAPIView):
    """`GET /api/imports/<id>/`: an import's status and outcome."""

    queryset = Import.objects.all()
    serializer_class = ImportSerializer
    permission_classes = [CanImport]
    filter_backends = []

    @extend_schema(
        summary="An import's status and outcome",
        description=(
            "`status`: pending (checked, or queued for the worker), running, done, failed "
            "(nothing saved: see `errors` and `message`), cancelled, reverted (see `kept`)."
        ),
        tags=["imports"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _ImportActionView(generics.GenericAPIView):
    queryset = Import.objects.all()
    serializer_class = ImportSerializer
    permission_classes = [CanImport]
    filter_backends = []

    def conflict(self, batch: Import, detail: str) -> Response:
        body = {**ImportSerializer(batch).data, "detail": detail}
        return Response(body, status=status.HTTP_409_CONFLICT)


class ImportRevertView(_ImportActionView):
    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "Reverted: what it created is deleted, what it updated put back; `kept` "
                    "lists what was left in place, and why."
                ),
            ),
            409: OpenApiResponse(
                ImportConflictSerializer,
                description=gettext_lazy("Not a done import: nothing changed (`detail`)."),
            ),
        },
        tags=["imports"],
    )
    def post(self, request, pk: int):
        """Undo a done import."""
        batch = self.get_object()
        try:
            batch = services.import_revert(import_id=batch.pk, user=request.user)
        except services.RevertError as error:
            return self.conflict(Import.objects.get(pk=batch.pk), error.message)
        return Response(ImportSerializer(batch).data)


class ImportCancelView(_ImportActionView):
    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                ImportSerializer, description=gettext_lazy("Cancelled: nothing was imported.")
            ),
            202: OpenApiResponse(
                ImportSerializer,
                description=gettext_lazy(
                    "Running: it stops at its next batch and rolls back (then `cancelled`)."
                ),
            ),
            409: OpenApiResponse(
                ImportConflictSerializer,
                description=gettext_lazy("Already finished: nothing changed (`detail`)."),
            ),
        },
        tags=["imports"],
    )
    def post(self, request, pk: int):
        """Cancel a pending or running import."""
        batch = services.import_cancel(import_id=self.get_object().pk)
        if batch.status == Import.Status.CANCELLED:
            return Response(ImportSerializer(batch).data)
        if batch.status == Import.Status.RUNNING:
            return Response(ImportSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
        return self.conflict(batch, _("Only a pending or running import can be cancelled."))


# Mounted by api/urls.py at /api/, before the router: its `clients/<pk>/` would take
# `clients/import/` for a client's id.
urlpatterns = [
    path("clients/import/", ClientImportView.as_view(), name="client-import"),
    path("orders/import/", OrderImportView.as_view(), name="order-import"),
    path("imports/<int:pk>/", ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/revert/", ImportRevertView.as_view(), name="import-revert"),
    path("imports/<int:pk>/cancel/", ImportCancelView.as_view(), name="import-cancel"),
]
