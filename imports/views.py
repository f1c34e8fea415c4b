"""The import pages: upload a file of clients or orders, see its preview (counts, sample rows,
errors, the columns read and ignored), check it again with other columns, commit it while the
page follows the progress, cancel it, revert it; and the history of imports.

Every write is a service of imports/services.py. A POST that comes too late for the import's
state (a commit of a finished import, a revert of a pending one: a second tab, a double click)
gets a message and the import's page, never an error page.

Each view needs `clients.import_client` (the Managers role): a guest is sent to the login
page, a logged-in user without it gets the 403 page and nothing changes."""

import logging
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from clients import permissions
from clients.models import Order
from imports import progress, services
from imports.columns import COLUMNS
from imports.forms import ImportCommitForm, ImportMappingForm, ImportUploadForm
from imports.models import Import
from imports.readers import FileRefused

logger = logging.getLogger(__name__)

# What a sample row will do, as the preview's table says it.
# A context of their own: "New" is also the header of a column of counts (import_list.html).
ACTIONS = {
    "create": pgettext_lazy("import row action", "New"),
    "update": pgettext_lazy("import row action", "Update"),
    "unchanged": pgettext_lazy("import row action", "Unchanged"),
}


class ImportPermissionMixin(PermissionRequiredMixin):
    permission_required = permissions.IMPORT_CLIENT


def page_state(batch: Import) -> str:
    """Which part of the import's page shows: "active" (a progress bar), "preview" (the check's
    result and the commit form), or the finished import's status (done, failed, …)."""
    if batch.is_active or batch.status == Import.Status.RUNNING:
        return "active"
    if batch.status == Import.Status.PENDING:
        return "preview"
    return batch.status


def progress_state(batch: Import) -> dict:
    """How far the work under way is: the last report (imports/progress.py) while one runs.

    A report of an earlier step (the preview's finished check, while the commit waits for the
    worker) is not this step's: the bar then has no numbers yet. The database, not the report,
    says whether the work is over: it is written before the last report is sent."""
    state = {
        "id": batch.pk,
        "stage": batch.stage,
        "done": 0,
        "total": 0,
        "finished": page_state(batch) != "active",
    }
    current = progress.current(batch.pk) if not state["finished"] else None
    if current and not current.get("finished"):
        state.update(stage=current["stage"], done=current["done"], total=current["total"])
    return state


# --- Upload ---------------------------------------------------------------------------------
class ImportUploadView(ImportPermissionMixin, FormView):
    """/clients/import/ and /orders/import/: the file (and the duplicate rule), checked at once
    (or by the worker, for a big file), then the import's page shows the preview."""

    form_class = ImportUploadForm
    template_name = "imports/import_upload.html"
    kind = Import.Kind.CLIENTS

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kind": self.kind}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            kind=self.kind,
            columns=COLUMNS[self.kind],
            back_url=reverse("clients:list" if self.kind == Import.Kind.CLIENTS else "orders:list"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            batch = services.import_create(
                user=self.request.user,
                kind=self.kind,
                upload=form.cleaned_data["file"],
                on_duplicate=form.cleaned_data.get("on_duplicate") or Import.OnDuplicate.SKIP,
            )
        except FileRefused as refused:
            form.add_error("file", refused.message)
            return self.form_invalid(form)
        services.import_start_check(import_id=batch.pk)
        return redirect("imports:detail", pk=batch.pk)


# --- History --------------------------------------------------------------------------------
class ImportListView(ImportPermissionMixin, ListView):
    """Every import, newest first, 25 a page: who, when, which file, what it did."""

    # The preview's JSON (up to IMPORT_MAX_ERRORS errors an import) is not for the list.
    queryset = Import.objects.select_related("user").defer(
        "errors", "sample", "mapping", "kept", "message", "header"
    )
    template_name = "imports/import_list.html"
    context_object_name = "imports"
    paginate_by = 25

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        context["page_range"] = page.paginator.get_elided_page_range(page.number)
        return context


# --- One import -----------------------------------------------------------------------------
def _cell(column: str, value) -> str:
    """A sample row's value as the CRM's own pages show it."""
    if column == "status" and value in Order.Status.values:
        return Order.Status(value).label
    if column == "amount" and value:
        return formats.number_format(Decimal(value), decimal_pos=2, force_grouping=True)
    if column == "created_at" and value:
        moment = parse_datetime(value)
        if moment is not None:
            return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return value or ""


class ImportPageMixin(ImportPermissionMixin):
    """The import's page, whichever part of it its state shows."""

    model = Import
    context_object_name = "batch"
    template_name = "imports/import_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = self.object
        columns = COLUMNS[batch.kind]
        state = page_state(batch)
        context.update(state=state, columns=columns, kind_list_url=_list_url(batch.kind))
        if state == "active":
            context["progress"] = progress_state(batch)
        elif state == "preview":
            context.update(self.preview_context(batch, columns, context))
        return context

    def preview_context(self, batch: Import, columns, context: dict) -> dict:
        labels = {column.field: column.label for column in columns} | {"file": _("File")}
        preview = {
            "sample": [
                {
                    "line": row["line"],
                    "action": row["action"],
                    "action_label": ACTIONS.get(row["action"], row["action"]),
                    "cells": [_cell(column.field, row.get(column.field)) for column in columns],
                }
                for row in batch.sample
            ],
            "errors": [
                {**error, "label": labels.get(error["field"], error["field"])}
                for error in batch.errors
            ],
            "errors_capped": len(batch.errors) >= settings.IMPORT_MAX_ERRORS,
            "max_errors": settings.IMPORT_MAX_ERRORS,
            "file_problem": batch.file_problem,
            "commit_form": ImportCommitForm(),
        }
        if "mapping_form" not in context:
            preview["mapping_form"] = ImportMappingForm(batch=batch, header=batch.header)
        return preview


def _list_url(kind: str) -> str:
    return reverse("clients:list" if kind == Import.Kind.CLIENTS else "orders:list")


class ImportDetailView(ImportPageMixin, DetailView):
    """/imports/<id>/: the progress while it runs, the preview, or what it did."""


class ImportProgressView(ImportPermissionMixin, SingleObjectMixin, View):
    """/imports/<id>/progress/: the progress as JSON, for the page's script when its socket
    (re)opens: the work may have ended before the socket joined the import's group."""

    model = Import

    def get(self, request, *args, **kwargs):
        response = JsonResponse(progress_state(self.get_object()))
        response["Cache-Control"] = "private, no-store"
        return response


class ImportInvalidRowsView(ImportPermissionMixin, SingleObjectMixin, View):
    """/imports/<id>/invalid.csv: the invalid rows as the file held them, with an `error`
    column; 404 when the last check found none."""

    model = Import

    def get(self, request, *args, **kwargs):
        batch = self.get_object()
        if not batch.invalid or not batch.invalid_file:
            raise Http404(_("This import has no invalid rows."))
        try:
            file = batch.invalid_file.open("rb")
        except FileNotFoundError:
            raise Http404(_("This import has no invalid rows.")) from None
        response = FileResponse(
            file,
            as_attachment=True,
            # Named after the upload (stored under a random name: imports/models.py).
            filename=f"{batch.file_name.rsplit('.', 1)[0][:100]}-invalid-rows.csv",
            content_type="text/csv; charset=utf-8",
        )
        response["Cache-Control"] = "private, no-store"
        return response


# --- Actions (POST) -------------------------------------------------------------------------
class ImportActionView(ImportPageMixin, SingleObjectMixin, FormView):
    """POST only: one service on this import, then back to its page with a message. A request
    the import's state no longer allows (`refusal`) changes nothing and says why."""

    http_method_names = ["post"]
    form_class = forms.Form

    def refusal(self, batch: Import) -> str:
        return ""

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        refusal = self.refusal(self.object)
        if refusal:
            messages.warning(request, refusal)
            return redirect(self.get_success_url())
        return super().post(request, *args, **kwargs)

    def get_success_url(self) -> str:
        return reverse("imports:detail", args=[self.object.pk])


def _not_waiting(batch: Import) -> str:
    if batch.status != Import.Status.PENDING:
        return _("This import is no longer waiting for confirmation: nothing was changed.")
    if batch.is_active:
        return _("The file is still being checked: wait for the preview.")
    return ""


class ImportCheckView(ImportActionView):
    """The mapping form: check the file again with the chosen columns (and duplicate rule)."""

    form_class = ImportMappingForm

    def refusal(self, batch: Import) -> str:
        return _not_waiting(batch)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "batch": self.object,
            "header": self.object.header,
        }

    def form_valid(self, form):
        batch = services.import_start_check(
            import_id=self.object.pk,
            mapping=form.mapping,
            on_duplicate=form.cleaned_data.get("on_duplicate"),
        )
        if batch.is_active:
            messages.info(self.request, _("The file is being checked again with your choices."))
        else:
            messages.success(self.request, _("The file was checked again with your choices."))
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form, mapping_form=form))


class ImportCommitView(ImportActionView):
    """Import the checked rows: all of them, or with the box ticked only the valid ones."""

    form_class = ImportCommitForm

    def refusal(self, batch: Import) -> str:
        if not_waiting := _not_waiting(batch):
            return not_waiting
        if batch.file_problem:
            return _("Nothing was imported: choose the file’s columns first.")
        return ""

    def form_valid(self, form):
        skip_invalid = form.cleaned_data["skip_invalid"]
        # Refused here, the preview stays as it is; refused by the commit, the import would end.
        refusal = services.commit_refusal(self.object, skip_invalid)
        if refusal:
            messages.error(self.request, refusal)
            # Back where the box to tick is.
            return redirect(f"{self.get_success_url()}#import-confirm")
        batch = services.import_start_commit(import_id=self.object.pk, skip_invalid=skip_invalid)
        if batch.status == Import.Status.DONE:
            messages.success(self.request, _("The import is done."))
        elif batch.status in (Import.Status.PENDING, Import.Status.RUNNING):
            messages.info(
                self.request,
                _("The import runs in the background: this page follows it, and you may leave."),
            )
        elif batch.message:
            messages.error(self.request, batch.message)
        return redirect(self.get_success_url())


class ImportCancelView(ImportActionView):
    """Give up a pending import, or stop a running one (its transaction rolls back)."""

    def refusal(self, batch: Import) -> str:
        if batch.status not in (Import.Status.PENDING, Import.Status.RUNNING):
            return _("This import has finished: there is nothing to cancel.")
        return ""

    def form_valid(self, form):
        batch = services.import_cancel(import_id=self.object.pk)
        if batch.status == Import.Status.CANCELLED:
            messages.success(self.request, _("Cancelled: nothing was imported."))
        elif batch.status == Import.Status.RUNNING:
            messages.info(
                self.request,
                _("Cancelling: the import stops at its next batch of rows and saves nothing."),
            )
        return redirect(self.get_success_url())


class ImportRevertView(ImportPageMixin, DetailView):
    """GET: what a revert would delete and put back; POST: revert the import."""

    template_name = "imports/import_revert.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.status != Import.Status.DONE:
            messages.warning(request, _("Only a finished import can be reverted."))
            return redirect("imports:detail", pk=self.object.pk)
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        batch = self.get_object()
        try:
            batch = services.import_revert(import_id=batch.pk, user=request.user)
        except services.RevertError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The import was reverted."))
        return redirect("imports:detail", pk=batch.pk)
