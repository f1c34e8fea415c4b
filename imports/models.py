import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from imports import columns


def import_upload_to(instance, filename: str) -> str:
    """A random name under imports/, with the upload's extension only: the user's file name
    (shown from `file_name`) may be too long for the disk, or hold anything."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    extension = extension if re.fullmatch(r"[a-z0-9]{1,8}", extension) else "bin"
    return f"imports/{uuid.uuid4().hex}.{extension}"


class Import(models.Model):
    """One file imported (or being checked before it is): who, when, what it held, what it did.

    Its life: uploaded and checked (`pending`, the preview), then committed (`running`, then
    `done`, or `failed`/`cancelled` with nothing saved), and maybe `reverted` later. What it
    created and updated is recorded row by row (ImportRecord), so that it can be undone.
    """

    class Kind(models.TextChoices):
        CLIENTS = "clients", _("Clients")
        ORDERS = "orders", _("Orders")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REVERTED = "reverted", _("Reverted")

    class Stage(models.TextChoices):
        """Where a pending or running import is (the API's `status` does not show it)."""

        CHECKING = "checking", _("Checking the rows")
        PREVIEW = "preview", _("Checked: waiting for confirmation")
        SAVING = "saving", _("Saving")
        FINISHED = "finished", _("Finished")

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("Skip clients that already exist")
        UPDATE = "update", _("Update their name and phone")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    stage = models.CharField(
        _("stage"), max_length=16, choices=Stage.choices, default=Stage.CHECKING
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="imports",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The upload itself, kept for the commit (in the worker) and a second look; never served
    # by the media view (core/views.py refuses imports/).
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=300)
    file_name = models.CharField(_("file name"), max_length=255)
    header = models.JSONField(
        _("columns"), default=list
    )  # the file's column names, for the mapping form
    # The choices the preview was made with, and the commit will be.
    mapping = models.JSONField(_("column mapping"), default=dict)
    on_duplicate = models.CharField(
        _("existing clients"), max_length=8, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    skip_invalid = models.BooleanField(_("skip invalid rows"), default=False)
    # What the check found (and, once done, what the commit did).
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    # The first settings.IMPORT_MAX_ERRORS of [{"line", "field", "message"}]; the CSV of the
    # invalid rows holds them all.
    errors = models.JSONField(_("errors"), default=list)
    sample = models.JSONField(
        _("sample rows"), default=list
    )  # the first rows as they will be saved
    invalid_file = models.FileField(
        _("invalid rows file"), upload_to=import_upload_to, max_length=300, blank=True
    )
    # An .xlsx's rows as CSV, written by the check for the commit, which then reads them ~3×
    # faster than the workbook again (imports/services.py import_check).
    rows_file = models.FileField(
        _("rows file"), upload_to=import_upload_to, max_length=300, blank=True
    )
    message = models.TextField(_("message"), blank=True)  # why it failed, or what a revert kept
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    reverted_at = models.DateTimeField(_("reverted at"), null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reverted by"),
    )
    # What the revert left in place, and why: ["client a@x.com: phone changed since", …].
    kept = models.JSONField(_("kept"), default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(on_duplicate__in=["skip", "update"]), name="import_on_duplicate_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.file_name})"

    @property
    def ignored_columns(self) -> list[str]:
        """The file's columns no field reads, as the preview lists them."""
        return columns.ignored_columns(self.header, self.mapping)

    @property
    def file_problem(self) -> str:
        """The file-level problem of the last check (no column for a required field), if any:
        nothing can be committed until a check with other columns clears it."""
        return next((e["message"] for e in self.errors if e.get("field") == "file"), "")

    @property
    def is_active(self) -> bool:
        """Work is under way (checking or saving): the page follows its progress."""
        return self.stage in (self.Stage.CHECKING, self.Stage.SAVING) and self.status in (
            self.Status.PENDING,
            self.Status.RUNNING,
        )


class ImportRecord(models.Model):
    """What an import wrote, for its revert: either the ids of a batch of rows it created
    (`created_ids`, one record per INSERT rather than one per row: a 100,000-row import writes
    50 of them), or one client it updated (`object_id`, and the updated fields' values in
    `before`/`after`, such as {"phone": "…"}).

    No foreign keys to clients or orders: they may be deleted or merged away meanwhile, and
    the revert then says so.
    """

    class Model(models.TextChoices):
        CLIENT = "client"
        ORDER = "order"

    batch = models.ForeignKey(
        Import, on_delete=models.CASCADE, related_name="records", verbose_name=_("import")
    )
    model = models.CharField(_("model"), max_length=8, choices=Model.choices)
    created_ids = models.JSONField(_("created ids"), null=True)
    object_id = models.PositiveBigIntegerField(_("object id"), null=True)
    before = models.JSONField(_("before"), null=True)
    after = models.JSONField(_("after"), null=True)

    class Meta:
        verbose_name = _("import record")
        verbose_name_plural = _("import records")
        indexes = [models.Index(fields=["batch", "model"], name="import_record")]
        constraints = [
            models.CheckConstraint(
                condition=Q(created_ids__isnull=False, object_id__isnull=True)
                | Q(created_ids__isnull=True, object_id__isnull=False),
                name="import_record_created_or_updated",
            ),
        ]

    def __str__(self) -> str:
        if self.created_ids is not None:
            return f"{len(self.created_ids)} {self.model}(s) created by import #{self.batch_id}"
        return f"{self.model} #{self.object_id} updated by import #{self.batch_id}"
