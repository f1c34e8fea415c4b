"""Importing clients and orders: check a file (the preview), commit it in one transaction,
cancel it, revert it. The web pages, the API and the background task all call these.

A check reads the file once, streaming, in batches: each batch's emails are looked up in one
query, so a 100,000-row file costs ~50 queries, not 100,000. A commit checks the file again
(the database may have changed since the preview) and writes with bulk inserts; the roll-up
triggers (clients/triggers.py) keep the totals, and the rest of the app hears of the import
once, after commit (clients.events), not once a row.

The history (history/) hears of it by batch, too: a commit's writes are recorded as made
through the import, by its user (in the worker as in the request), one entry per INSERT of
created rows and one per updated client, written with one INSERT per chunk; a revert is one
entry, and one per client whose fields it put back.
"""

import contextlib
import csv
import gc
import io
import itertools
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from auditlog.cid import get_cid
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from clients import events
from clients.models import Client, Order
from clients.services import is_vip_email
from core.csv import neutralise
from history import context as history_context
from history.context import Via, recorded_as
from history.models import Entry
from history.services import entry_record
from imports import columns, progress
from imports.models import Import, ImportRecord
from imports.readers import FileRefused, Table, max_bytes, open_rows_copy, open_table
from imports.rows import ClientRow, OrderRow, money
from timeline.models import Note, Task

logger = logging.getLogger(__name__)

BATCH = 2_000  # rows checked per email lookup, and written per INSERT
# A workbook's rows as CSV may be larger than the workbook; past this many times the upload
# limit, they are an amplification bomb (one long shared string in every row).
ROWS_COPY_MAX_FACTOR = 10
SAMPLE_ROWS = 10

Progress = Callable[[int, int], None]  # (rows done, rows in all)


@contextlib.contextmanager
def _gc_paused():
    """The cyclic garbage collector off while a check or a commit runs: the plan's 100,000
    tuples and the models built for the INSERTs, none of them in a cycle, made it scan again
    and again, 10-18% of the time (bench/README.md#imports). Refcounting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ImportCancelled(Exception):
    """Someone pressed Cancel while the import ran: its transaction rolls back."""


@dataclass
class Analysis:
    """What a file holds and what committing it would do. The plan (`creates`, `updates`) is
    what the commit writes."""

    kind: str
    mapping: dict[str, int]
    ignored_columns: list[str]
    rows: int = 0
    unchanged: int = 0
    invalid: int = 0
    errors: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)
    creates: list[tuple] = field(default_factory=list)
    updates: list[tuple] = field(default_factory=list)  # (client id, before, after)
    invalid_csv: io.StringIO | None = None

    # A file that cannot be checked raises FileRefused instead (an Import records it).
    file_problem = ""

    @property
    def created(self) -> int:
        return len(self.creates)

    @property
    def updated(self) -> int:
        return len(self.updates)

    def error(self, line: int, name: str, message: str) -> None:
        if len(self.errors) < settings.IMPORT_MAX_ERRORS:
            self.errors.append({"line": line, "field": name, "message": message})


def file_error(message: str) -> dict:
    """A file-level problem, in the shape of a row's error (line 1: the header)."""
    return {"line": 1, "field": "file", "message": message}


# --- The check ------------------------------------------------------------------------------
_NO_ROWS = gettext_lazy("The file has its column names but no rows under them.")


def _no_column(missing: list[columns.Column]) -> str:
    return ngettext(
        "No column holds %(fields)s: name the column as the field (or a usual synonym), "
        "or choose it among the file's columns on the import's page.",
        "No columns hold %(fields)s: name the columns as the fields (or usual synonyms), "
        "or choose them among the file's columns on the import's page.",
        len(missing),
    ) % {"fields": ", ".join(str(column.label) for column in missing)}


def analyse(
    table: Table,
    *,
    kind: str,
    mapping: dict[str, int] | None = None,
    on_duplicate: str = Import.OnDuplicate.SKIP,
    report: Progress | None = None,
    keep_invalid_rows: bool = False,
    copy_rows_to=None,
    stop: Callable[[], bool] | None = None,
) -> Analysis:
    """Check every row of `table` and plan the writes. Raises FileRefused when a required
    column has no match (the mapping must say where it is).

    `copy_rows_to` (a text file) receives the table as CSV, blank rows kept so that lines keep
    their numbers: an .xlsx's copy for the commit to read (imports/readers.py reads a CSV
    three times faster than openpyxl a workbook). `stop()` is asked between batches: True
    raises ImportCancelled."""
    mapping = (
        columns.auto_mapping(kind, table.header)
        if mapping is None
        else columns.clean_mapping(kind, table.header, mapping)
    )
    missing = columns.missing_columns(kind, mapping)
    if missing:
        raise FileRefused(_no_column(missing))
    analysis = Analysis(
        kind=kind, mapping=mapping, ignored_columns=columns.ignored_columns(table.header, mapping)
    )
    writer = None
    if keep_invalid_rows:
        analysis.invalid_csv = io.StringIO()
        writer = csv.writer(analysis.invalid_csv)
        # The column the invalid rows' page names ("each with an “error” column").
        writer.writerow([*map(neutralise, table.header), _("error")])
    check = _ClientCheck(analysis, on_duplicate) if kind == "clients" else _OrderCheck(analysis)
    total = table.estimated_rows
    copy = _RowCopy(copy_rows_to, table.header) if copy_rows_to is not None else None
    for batch in itertools.batched(table.rows, BATCH):
        if stop and stop():
            raise ImportCancelled
        if copy:
            copy.write(batch)
            if copy_rows_to.tell() > ROWS_COPY_MAX_FACTOR * max_bytes():
                # A few KB of workbook can repeat one long shared string in every row.
                raise FileRefused(
                    _("This workbook's cells add up to more than %(size)s MB of text.")
                    % {"size": ROWS_COPY_MAX_FACTOR * settings.IMPORT_MAX_MB}
                )
        for line, cells, errors in check.batch(batch, mapping):
            analysis.invalid += 1
            for name, message in errors:
                analysis.error(line, name, message)
            if writer:
                message = "; ".join(f"{name}: {message}" for name, message in errors)
                # Escaped as the export is (a cell is a formula in whoever opens the file);
                # the import undoes the escape when the fixed file comes back (rows.py).
                writer.writerow([*map(neutralise, cells), neutralise(message)])
        analysis.rows += len(batch)
        if report:
            report(analysis.rows, max(total, analysis.rows))
    if not analysis.rows:
        raise FileRefused(str(_NO_ROWS))
    return analysis


class _RowCopy:
    def __init__(self, file, header: list[str]):
        self.writer = csv.writer(file)
        self.writer.writerow(header)
        self.line = 1

    def write(self, batch) -> None:
        for line, cells in batch:
            self.writer.writerows([] for _ in range(line - self.line - 1))
            self.writer.writerow(cells)
            self.line = line


def _values(cells: list[str], mapping: dict[str, int]) -> dict[str, str]:
    return {name: (cells[index] if index < len(cells) else "") for name, index in mapping.items()}


class _ClientCheck:
    """Rows of clients: valid, first of their email in the file, then new, unchanged or
    an update (with on_duplicate="update": a filled name or phone that differs)."""

    def __init__(self, analysis: Analysis, on_duplicate: str):
        self.analysis, self.update = analysis, on_duplicate == Import.OnDuplicate.UPDATE
        self.row = ClientRow()
        self.first_line: dict[str, int] = {}  # email -> its first line in the file

    def batch(self, batch, mapping) -> Iterator[tuple[int, list[str], list]]:
        checked = []
        for line, cells in batch:
            cleaned, errors = self.row.clean(_values(cells, mapping))
            email = cleaned["email"]
            if not errors and email in self.first_line:
                errors = [
                    (
                        "email",
                        _("The same email as line %(line)s, which is imported instead.")
                        % {"line": self.first_line[email]},
                    )
                ]
            elif not errors:
                self.first_line[email] = line
            checked.append((line, cells, cleaned, errors))
        emails = [cleaned["email"] for _line, _cells, cleaned, errors in checked if not errors]
        existing = {
            row[0]: row[1:]
            # No ORDER BY: the model's default ordering only added a sort of the batch.
            for row in Client.objects.filter(email__in=emails)
            .order_by()
            .values_list("email", "pk", "name", "phone")
        }
        for line, cells, cleaned, errors in checked:
            if errors:
                yield line, cells, errors
                continue
            found = existing.get(cleaned["email"])
            if found is None:
                self.analysis.creates.append((cleaned["name"], cleaned["email"], cleaned["phone"]))
                self._sample(line, "create", cleaned)
                continue
            pk, name, phone = found
            after = {}
            if self.update:
                # Fills and overwrites, never clears: a blank cell leaves the field as it is.
                after = {
                    key: value
                    for key, value in (("name", cleaned["name"]), ("phone", cleaned["phone"]))
                    if value and value != {"name": name, "phone": phone}[key]
                }
            if after:
                before = {key: {"name": name, "phone": phone}[key] for key in after}
                self.analysis.updates.append((pk, before, after))
                self._sample(line, "update", {"name": name, "phone": phone, **cleaned, **after})
            else:
                self.analysis.unchanged += 1
                self._sample(line, "unchanged", {**cleaned, "name": name, "phone": phone})

    def _sample(self, line: int, action: str, values: dict) -> None:
        if len(self.analysis.sample) < SAMPLE_ROWS:
            self.analysis.sample.append(
                {"line": line, "action": action, **{k: values[k] for k in ClientRow.fields}}
            )


class _OrderCheck:
    """Rows of orders: valid, and their client found by email. Every valid row is a new
    order (an order has no identity a file could repeat)."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.row = OrderRow()

    def batch(self, batch, mapping) -> Iterator[tuple[int, list[str], list]]:
        checked = [(line, cells, *self.row.clean(_values(cells, mapping))) for line, cells in batch]
        emails = {cleaned["client_email"] for _l, _c, cleaned, _e in checked}
        clients = dict(
            Client.objects.filter(email__in=emails).order_by().values_list("email", "pk")
        )
        for line, cells, cleaned, errors in checked:
            client_id = clients.get(cleaned["client_email"])
            if client_id is None and cleaned["client_email"]:
                errors = [
                    ("client_email", _("No client has this email: import the clients first.")),
                    *errors,
                ]
            if errors:
                yield line, cells, errors
                continue
            self.analysis.creates.append(
                (
                    client_id,
                    cleaned["title"],
                    cleaned["amount"],
                    cleaned["status"],
                    cleaned["created_at"],
                )
            )
            if len(self.analysis.sample) < SAMPLE_ROWS:
                self.analysis.sample.append(
                    {
                        "line": line,
                        "action": "create",
                        "client_email": cleaned["client_email"],
                        "title": cleaned["title"],
                        "amount": money(cleaned["amount"]),
                        "status": cleaned["status"],
                        "created_at": (
                            cleaned["created_at"].isoformat() if cleaned["created_at"] else ""
                        ),
                    }
                )


def analyse_upload(
    file, *, name: str, kind: str, mapping=None, on_duplicate=Import.OnDuplicate.SKIP, **kwargs
) -> Analysis:
    """analyse() of an uploaded file. Raises FileRefused."""
    table = open_table(file, name=name)
    try:
        return analyse(table, kind=kind, mapping=mapping, on_duplicate=on_duplicate, **kwargs)
    finally:
        table.close()


# --- The record of an import ----------------------------------------------------------------


def import_create(
    *,
    user,
    kind: str,
    upload,
    on_duplicate: str = Import.OnDuplicate.SKIP,
    skip_invalid: bool = False,
    require_columns: bool = False,
) -> Import:
    """Keep the upload as a pending import, once its header and a first row are read
    (FileRefused otherwise: nothing is kept). With `require_columns` (the API, which has no
    page to choose columns on) a required field no header matches is refused here too."""
    name = getattr(upload, "name", "") or "upload"
    table = open_table(upload, name=name)
    try:
        header = table.header
        if next(table.rows, None) is None:
            raise FileRefused(str(_NO_ROWS))
    finally:
        table.close()
    if require_columns and (
        missing := columns.missing_columns(kind, columns.auto_mapping(kind, header))
    ):
        raise FileRefused(_no_column(missing))
    upload.seek(0)
    batch = Import(
        kind=kind,
        user=user,
        file_name=name.rsplit("/", 1)[-1][:255],
        on_duplicate=on_duplicate,
        skip_invalid=skip_invalid,
        header=header,
        mapping=columns.auto_mapping(kind, header),
        # Waiting: the pages check it next (import_start_check), the API commits it.
        stage=Import.Stage.PREVIEW,
    )
    batch.file.save(batch.file_name, File(upload), save=False)
    batch.save()
    return batch


def _store(batch: Import, analysis: Analysis) -> None:
    batch.mapping = analysis.mapping
    batch.rows, batch.invalid, batch.unchanged = analysis.rows, analysis.invalid, analysis.unchanged
    batch.created, batch.updated = analysis.created, analysis.updated
    batch.errors, batch.sample = analysis.errors, analysis.sample
    if analysis.invalid_csv is None:
        return
    if batch.invalid_file:  # an earlier check's
        batch.invalid_file.delete(save=False)
    if analysis.invalid:
        content = ContentFile(analysis.invalid_csv.getvalue().encode("utf-8-sig"))
        stem = batch.file_name.rsplit(".", 1)[0]
        batch.invalid_file.save(f"{stem}-invalid-rows.csv", content, save=False)


def _is_workbook(batch: Import) -> bool:
    with batch.file.open("rb") as file:
        return file.read(4) == b"PK\x03\x04"


def _store_rows_copy(batch: Import, copy) -> None:
    """Keep the workbook's rows as CSV for the commit (Import.rows_file)."""
    copy.seek(0)
    if batch.rows_file:
        batch.rows_file.delete(save=False)
    # Streamed to storage (the spool is on disk past 4 MB): no whole copy in memory.
    batch.rows_file.save("rows.csv", File(copy), save=False)
    batch.save(update_fields=["rows_file"])


def _refused(batch: Import, message: str) -> Import:
    batch.stage = Import.Stage.PREVIEW
    batch.errors = [file_error(message)]
    batch.rows = batch.created = batch.updated = batch.unchanged = batch.invalid = 0
    batch.message = message
    _save_if_pending(batch, CHECK_FIELDS)
    progress.reporter(batch.pk, stage=Import.Stage.CHECKING).finish()
    return Import.objects.get(pk=batch.pk)


def import_check(*, import_id: int, mapping: dict | None = None, on_duplicate=None) -> Import:
    """Check the pending import's file (again, with a new mapping or duplicate rule): the
    preview's counts, sample and errors, and the CSV of the invalid rows."""
    with _gc_paused():
        return _import_check(import_id=import_id, mapping=mapping, on_duplicate=on_duplicate)


def _import_check(*, import_id: int, mapping: dict | None, on_duplicate) -> Import:
    batch = Import.objects.get(pk=import_id)
    if batch.status != Import.Status.PENDING:
        return batch  # cancelled while queued, or committed meanwhile
    if mapping is not None:
        batch.mapping = mapping
    if on_duplicate is not None:
        batch.on_duplicate = on_duplicate
    batch.stage, batch.message = Import.Stage.CHECKING, ""
    batch.save(update_fields=["mapping", "on_duplicate", "stage", "message"])
    report = progress.reporter(batch.pk, stage=Import.Stage.CHECKING)
    rows_copy = (
        tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024, mode="w+", newline="")  # noqa: SIM115 (entered below)
        if _is_workbook(batch)
        else contextlib.nullcontext()
    )
    with rows_copy as copy:
        try:
            with batch.file.open("rb") as file:
                analysis = analyse_upload(
                    file,
                    name=batch.file_name,
                    kind=batch.kind,
                    mapping=batch.mapping,
                    on_duplicate=batch.on_duplicate,
                    report=report,
                    keep_invalid_rows=True,
                    copy_rows_to=copy,
                    stop=lambda: not _still_pending(batch.pk),
                )
        except ImportCancelled:
            return Import.objects.get(pk=batch.pk)
        except FileRefused as refused:
            return _refused(batch, refused.message)
        _store(batch, analysis)
        if copy is not None:
            _store_rows_copy(batch, copy)
    batch.stage = Import.Stage.PREVIEW
    # Only onto the import as it still is: a Cancel (or a commit from another tab) while the
    # rows were read wins, and this check's result is dropped.
    _save_if_pending(batch, CHECK_FIELDS)
    report.finish()
    return Import.objects.get(pk=batch.pk)


# What a check writes on its import.
CHECK_FIELDS = [
    "mapping", "rows", "invalid", "unchanged", "created", "updated",
    "errors", "sample", "invalid_file", "rows_file", "stage", "message",
]  # fmt: skip


def _still_pending(import_id: int) -> bool:
    return Import.objects.filter(
        pk=import_id, status=Import.Status.PENDING, cancel_requested=False
    ).exists()


def _save_if_pending(batch: Import, fields: list[str]) -> bool:
    values = {name: getattr(batch, name) for name in fields}
    for name in ("invalid_file", "rows_file"):
        if name in values:
            values[name] = values[name].name or ""
    return bool(
        Import.objects.filter(
            pk=batch.pk, status=Import.Status.PENDING, cancel_requested=False
        ).update(**values)
    )


def commit_refusal(batch: Import | Analysis, skip_invalid: bool) -> str:
    """Why the commit may not go ahead ("" when it may)."""
    if batch.file_problem:
        return _("Nothing was imported: %(reason)s") % {"reason": batch.file_problem}
    if batch.invalid and not skip_invalid:
        return _(
            "Nothing was imported: %(invalid)s of %(rows)s rows are invalid. Fix them, or choose "
            "to import the valid rows and skip the invalid ones."
        ) % {"invalid": batch.invalid, "rows": batch.rows}
    return ""


def import_commit(*, import_id: int) -> Import:
    """Commit a pending import, all or nothing: check the file again, then write every valid
    row in one transaction. Ends `done`, `failed` (invalid rows refused, a file that changed
    meaning, a clash with another writer) or `cancelled`, with nothing saved but for `done`."""
    with _gc_paused():
        return _import_commit(import_id=import_id)


def _import_commit(*, import_id: int) -> Import:
    updated = (
        Import.objects.filter(pk=import_id, status=Import.Status.PENDING, cancel_requested=False)
        .exclude(stage=Import.Stage.CHECKING)  # a (re-)check is under way: its result first
        .update(status=Import.Status.RUNNING, stage=Import.Stage.SAVING)
    )
    # With its user: the history records the commit's writes as theirs.
    batch = Import.objects.select_related("user").get(pk=import_id)
    if not updated:
        return batch  # already running, finished or cancelled: nothing to do twice
    report = progress.reporter(batch.pk, stage=Import.Stage.CHECKING)
    source = batch.rows_file or batch.file
    try:
        with source.open("rb") as file:
            # The workbook's rows copy is read as it was written, without the upload's limits:
            # its CSV form may be larger than the .xlsx (IMPORT_MAX_MB) it came from.
            table = (
                open_rows_copy(file) if batch.rows_file else open_table(file, name=batch.file_name)
            )
            try:
                analysis = analyse(
                    table,
                    kind=batch.kind,
                    mapping=batch.mapping,
                    on_duplicate=batch.on_duplicate,
                    report=report,
                    keep_invalid_rows=True,
                )
            finally:
                table.close()
        _store(batch, analysis)
        report.stage = Import.Stage.SAVING
        refusal = commit_refusal(analysis, batch.skip_invalid)
        if refusal:
            return _finish(batch, Import.Status.FAILED, refusal)
        # Recorded as the import by its user wherever it runs: the page's request, the API's,
        # or the worker (which has no request).
        with recorded_as(Via.IMPORT, user=batch.user), transaction.atomic():
            write = _write_clients if batch.kind == Import.Kind.CLIENTS else _write_orders
            write(batch, analysis, report)
            batch.status, batch.stage = Import.Status.DONE, Import.Stage.FINISHED
            batch.finished_at = timezone.now()
            # Only if still running: a Cancel that found this worker silent (import_cancel)
            # already said "nothing was imported", so nothing must be.
            if not Import.objects.filter(pk=batch.pk, status=Import.Status.RUNNING).update(
                **{name: getattr(batch, name) for name in DONE_FIELDS},
                invalid_file=batch.invalid_file.name or "",
            ):
                raise ImportCancelled
    except ImportCancelled:
        return _finish(batch, Import.Status.CANCELLED, _("Cancelled: nothing was imported."))
    except FileRefused as refused:
        batch.errors = [file_error(refused.message)]
        return _finish(batch, Import.Status.FAILED, refused.message)
    except IntegrityError:
        logger.warning("import #%s clashed with another writer", batch.pk, exc_info=True)
        return _finish(
            batch,
            Import.Status.FAILED,
            _(
                "Nothing was imported: someone added or changed one of these clients while the "
                "import ran. Upload the file again to import it."
            ),
        )
    except Exception:
        logger.exception("import #%s failed", batch.pk)
        _finish(batch, Import.Status.FAILED, _("The import failed: nothing was imported."))
        raise
    report.finish()
    return batch


DONE_FIELDS = [
    "status", "stage", "finished_at", "rows", "created", "updated", "unchanged", "invalid",
    "errors", "sample", "mapping",
]  # fmt: skip


def _finish(batch: Import, status: str, message: str) -> Import:
    """End an unfinished import without writes: failed or cancelled (never over a finished
    one, which another path may have ended meanwhile)."""
    batch.status, batch.stage, batch.message = status, Import.Stage.FINISHED, message
    batch.created = batch.updated = 0
    batch.finished_at = timezone.now()
    fields = [*DONE_FIELDS, "message"]
    Import.objects.filter(
        pk=batch.pk, status__in=[Import.Status.PENDING, Import.Status.RUNNING]
    ).update(
        **{name: getattr(batch, name) for name in fields},
        invalid_file=batch.invalid_file.name or "",
    )
    progress.reporter(batch.pk, stage=Import.Stage.FINISHED).finish()
    return Import.objects.get(pk=batch.pk)


def _check_cancel(batch: Import) -> None:
    # A fresh read: on PostgreSQL the transaction sees the Cancel committed meanwhile.
    if not Import.objects.filter(
        pk=batch.pk, status=Import.Status.RUNNING, cancel_requested=False
    ).exists():
        raise ImportCancelled


def _write_clients(batch: Import, analysis: Analysis, report: Progress) -> None:
    total = analysis.created + analysis.updated
    done = 0
    for chunk in itertools.batched(analysis.creates, BATCH):
        _check_cancel(batch)
        made = Client.objects.bulk_create(
            Client(name=name, email=email, phone=phone, vip=is_vip_email(email))
            for name, email, phone in chunk
        )
        # What each was created with, beside its id: the revert keeps one edited since.
        ImportRecord.objects.create(
            batch=batch,
            model=ImportRecord.Model.CLIENT,
            created_ids=[client.pk for client in made],
            after=[[client.name, client.phone, client.vip] for client in made],
        )
        _record_created(batch, ImportRecord.Model.CLIENT, len(made))
        # The batch's clients are cycles (each avatar's FieldFile refers back to its client):
        # collected here, while young, since the collector is paused (_gc_paused).
        del made
        gc.collect(0)
        done += len(chunk)
        report(done, total)
    for chunk in itertools.batched(analysis.updates, BATCH // 4):
        _check_cancel(batch)
        # Locked, in id order, until the commit: `before` is what the row holds now (an edit
        # since the preview included), and no edit slips in between this read and the write.
        current = _locked_clients([pk for pk, _before, _after in chunk])
        changed, records, entries = [], [], []
        for pk, _before, after in chunk:
            client = current.get(pk)
            if client is None:
                continue  # deleted or merged away since the check
            before = {name: getattr(client, name) for name in after}
            for name, value in after.items():
                setattr(client, name, value)
            changed.append(client)
            records.append(
                ImportRecord(
                    batch=batch,
                    model=ImportRecord.Model.CLIENT,
                    object_id=pk,
                    before=before,
                    after=after,
                )
            )
            entries.append(_client_entry(client, before, after, Entry.Event.IMPORT, batch))
        Client.objects.bulk_update(changed, ["name", "phone"])
        ImportRecord.objects.bulk_create(records)
        _entries_create(entries)
        done += len(chunk)
        report(done, total)
    events.send_after_commit(events.clients_changed)


def _record_created(batch: Import, model: str, created: int) -> None:
    """One history entry for one INSERT of created rows (bulk_create sends no signal)."""
    entry_record(
        instance=batch,
        event=Entry.Event.IMPORT,
        action=Entry.Action.CREATE,
        data={"import": batch.pk, "file": batch.file_name, "model": model, "created": created},
    )


def _client_entry(client: Client, before: dict, after: dict, event: str, batch: Import):
    """The history entry of one client's fields changed in bulk (bulk_update sends no signal):
    {field: [before, after]} of the fields whose value changed; None when none did."""
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return None
    return Entry(
        content_type=ContentType.objects.get_for_model(Client),
        object_pk=str(client.pk),
        object_id=client.pk,
        object_repr=str(client),
        action=Entry.Action.UPDATE,
        changes=changes,
        client_id=client.pk,
        event=event,
        additional_data={"import": batch.pk},
    )


def _entries_create(entries: list) -> None:
    """The chunk's entries, by the current source (history/context.py), in one INSERT."""
    entries = [entry for entry in entries if entry is not None]
    if not entries:
        return
    source, now, cid = history_context.current(), timezone.now(), get_cid()
    actor, label = source.actor(), source.actor_label()
    for entry in entries:
        entry.via, entry.actor, entry.actor_label = source.via, actor, label
        entry.timestamp, entry.cid = now, cid
    Entry.objects.bulk_create(entries)


def _locked_clients(ids) -> dict[int, Client]:
    clients = Client.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {client.pk: client for client in clients}


def _write_orders(batch: Import, analysis: Analysis, report: Progress) -> None:
    total, done = analysis.created, 0
    now = timezone.now()
    for chunk in itertools.batched(analysis.creates, BATCH):
        _check_cancel(batch)
        made = Order.objects.bulk_create(
            Order(
                client_id=client_id,
                title=title,
                amount=amount,
                status=status,
                created_at=created_at or now,
            )
            for client_id, title, amount, status, created_at in chunk
        )
        ImportRecord.objects.create(
            batch=batch, model=ImportRecord.Model.ORDER, created_ids=[order.pk for order in made]
        )
        _record_created(batch, ImportRecord.Model.ORDER, len(made))
        done += len(chunk)
        report(done, total)
    events.send_after_commit(events.clients_changed, orders_only=True)
    events.send_after_commit(events.order_changed, order_id=None, deleted=False)


# --- Now or in the background ----------------------------------------------------------------


def runs_in_background(batch: Import) -> bool:
    """A file above settings.IMPORT_BACKGROUND_KB is checked and committed by the worker (the
    page shows its progress); a smaller one within the request. Without Redis the "worker" is
    the request itself (eager tasks): the same flow, in-process."""
    return batch.file.size > settings.IMPORT_BACKGROUND_KB * 1024


def _queue(task_name: str, batch: Import) -> None:
    from imports import tasks  # tasks import this module

    task = getattr(tasks, task_name)
    # The worker speaks as this request does: its language and zone (imports/tasks.py).
    language, zone = translation.get_language(), timezone.get_current_timezone_name()

    def send() -> None:
        try:
            task.delay(batch.pk, language=language, time_zone=zone)
        except Exception:
            logger.exception("import #%s: could not queue %s", batch.pk, task_name)
            _finish(
                Import.objects.get(pk=batch.pk),
                Import.Status.FAILED,
                _("The background worker could not be reached: nothing was imported. Try again."),
            )

    transaction.on_commit(send)


def import_start_check(*, import_id: int, mapping=None, on_duplicate=None) -> Import:
    """Check (or check again) a pending import: now, or queued for the worker."""
    batch = Import.objects.get(pk=import_id)
    if not runs_in_background(batch):
        return import_check(import_id=import_id, mapping=mapping, on_duplicate=on_duplicate)
    if mapping is not None:
        batch.mapping = mapping
    if on_duplicate is not None:
        batch.on_duplicate = on_duplicate
    batch.stage = Import.Stage.CHECKING
    batch.save(update_fields=["mapping", "on_duplicate", "stage"])
    _queue("check", batch)
    return batch


def import_start_commit(*, import_id: int, skip_invalid: bool | None = None) -> Import:
    """Commit a pending import: now (the answer is its outcome), or queued for the worker (the
    answer is still pending; its page and GET /api/imports/<id>/ follow it)."""
    if skip_invalid is not None:
        Import.objects.filter(pk=import_id, status=Import.Status.PENDING).update(
            skip_invalid=skip_invalid
        )
    batch = Import.objects.get(pk=import_id)
    if batch.status != Import.Status.PENDING or batch.stage == Import.Stage.CHECKING:
        return batch  # finished, or still being checked: nothing to commit yet
    if not runs_in_background(batch):
        return import_commit(import_id=import_id)
    Import.objects.filter(pk=import_id).update(stage=Import.Stage.SAVING)
    batch.stage = Import.Stage.SAVING
    _queue("commit", batch)
    return batch


def import_cancel(*, import_id: int) -> Import:
    """Cancel an import: a pending one at once; a running one at its next batch (its
    transaction then rolls back). A finished import is left as it is."""
    Import.objects.filter(pk=import_id, status=Import.Status.PENDING).update(
        status=Import.Status.CANCELLED,
        stage=Import.Stage.FINISHED,
        cancel_requested=True,
        message=_("Cancelled: nothing was imported."),
        finished_at=timezone.now(),
    )
    Import.objects.filter(pk=import_id, status=Import.Status.RUNNING).update(cancel_requested=True)
    batch = Import.objects.get(pk=import_id)
    if batch.status == Import.Status.RUNNING and progress.stalled(batch.pk):
        # Its worker died (a deploy, the OOM killer): its transaction rolled back with it, and
        # nobody will see the cancel. Without this it would say "running" for ever.
        batch = _finish(
            batch, Import.Status.CANCELLED, _("The worker stopped: nothing was imported.")
        )
    return batch


# --- Revert ---------------------------------------------------------------------------------


class RevertError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def import_revert(*, import_id: int, user) -> Import:
    """Undo a done import in one transaction: delete the clients and orders it created, put
    back the fields it updated. Kept, and listed in `kept`: a field someone changed since
    (their value wins), and a created client someone has worked on since
    (_delete_created_clients).

    The history records the revert once (and each client whose fields were put back), by the
    request's user, or by `user` where there is no request (a job, a command)."""
    source = history_context.current()
    by_user = (
        recorded_as(source.via, user=user)
        if source.actor() is None and user is not None
        else contextlib.nullcontext()
    )
    with by_user, transaction.atomic():
        batch = Import.objects.select_for_update().get(pk=import_id)
        if batch.status != Import.Status.DONE:
            raise RevertError(_("Only a finished import can be reverted."))
        kept: list[str] = []
        records = batch.records.all()
        order_ids = _created(records.filter(model=ImportRecord.Model.ORDER))
        deleted_orders = _delete_orders(order_ids)
        deleted_clients = 0
        created = records.filter(model=ImportRecord.Model.CLIENT, created_ids__isnull=False)
        for record in created.order_by("pk"):
            deleted, kept_here = _delete_created_clients(record)
            deleted_clients += deleted
            kept += kept_here
        kept_here, restored = _restore_updates(batch, records.filter(object_id__isnull=False))
        kept += kept_here
        batch.status, batch.kept = Import.Status.REVERTED, kept
        batch.reverted_at, batch.reverted_by = timezone.now(), user
        batch.message = _("Reverted: %(clients)s and %(orders)s deleted.") % {
            "clients": ngettext("%d client", "%d clients", deleted_clients) % deleted_clients,
            "orders": ngettext("%d order", "%d orders", deleted_orders) % deleted_orders,
        }
        batch.save()
        # One entry for the whole revert: its deletes are raw DELETEs, recorded by none.
        entry_record(
            instance=batch,
            event=Entry.Event.REVERT,
            data={
                "import": batch.pk,
                "file": batch.file_name,
                "clients_deleted": deleted_clients,
                "orders_deleted": deleted_orders,
                "clients_restored": restored,
                "kept": len(kept),
            },
        )
        events.send_after_commit(events.clients_changed)
        if order_ids:
            events.send_after_commit(events.order_changed, order_id=None, deleted=True)
    return batch


def _delete_created_clients(record: ImportRecord) -> tuple[int, list[str]]:
    """Delete the clients of one created batch but those someone has worked on since: orders
    from elsewhere (added, merged in), notes or tasks, an avatar, or a name, phone or VIP flag
    other than the import's (a merge fills them too). Returns how many went, and what was
    kept, why."""
    created = dict(zip(record.created_ids, record.after or [], strict=False))
    # Locked first, in id order: an order added to one of them meanwhile waits for this
    # transaction (its roll-up trigger locks the client), then fails on the deleted client.
    rows = (
        Client.objects.select_for_update()
        .filter(pk__in=record.created_ids)
        .order_by("pk")
        .annotate(
            has_notes=Exists(Note.objects.filter(client_id=OuterRef("pk"))),
            has_tasks=Exists(Task.objects.filter(client_id=OuterRef("pk"))),
        )
        .values_list(
            "pk",
            "email",
            "name",
            "phone",
            "vip",
            "avatar",
            "orders_count",
            "has_notes",
            "has_tasks",
        )
    )
    kept, doomed = [], []
    for pk, email, name, phone, vip, avatar, orders, notes, tasks in rows:
        if orders:
            reason = _("Client %(email)s was kept: it has orders added since the import.")
        elif notes or tasks:
            reason = _("Client %(email)s was kept: it has notes or tasks added since the import.")
        elif avatar:
            reason = _("Client %(email)s was kept: it has an avatar added since the import.")
        elif pk in created and [name, phone, vip] != created[pk]:
            reason = _("Client %(email)s was kept: it was edited since the import.")
        else:
            doomed.append(pk)
            continue
        kept.append(reason % {"email": email})
    # _raw_delete: one DELETE, no per-row signals (they would queue one cache bump per
    # client, and one history entry); these clients have no orders, notes, tasks or avatar.
    deleted = Client.objects.filter(pk__in=doomed)._raw_delete(Client.objects.db) if doomed else 0
    return deleted, kept


def _created(records) -> list[int]:
    ids = records.filter(created_ids__isnull=False).values_list("created_ids", flat=True)
    return [pk for chunk in ids for pk in chunk]


def _delete_orders(order_ids: list[int]) -> int:
    deleted = 0
    for chunk in itertools.batched(order_ids, BATCH):
        deleted += Order.objects.filter(pk__in=chunk)._raw_delete(Order.objects.db)
    return deleted


def _restore_updates(batch: Import, records) -> tuple[list[str], int]:
    """Put back the fields the import updated (those not changed since); returns what was
    kept, and how many clients had a field put back (each one history entry)."""
    kept, restored_count = [], 0
    for chunk in itertools.batched(records.order_by("pk").iterator(chunk_size=BATCH), BATCH):
        # Locked: an edit between this comparison and the write would be overwritten.
        clients = _locked_clients([record.object_id for record in chunk])
        restored, entries = [], []
        for record in chunk:
            client = clients.get(record.object_id)
            if client is None:
                continue  # deleted or merged away since: nothing to put back
            now, back = {}, {}
            for name, value in record.after.items():
                if getattr(client, name) == value:
                    now[name], back[name] = value, record.before[name]
                    setattr(client, name, record.before[name])
                else:
                    kept.append(
                        _("Client %(email)s: %(field)s was changed since, so it was kept.")
                        % {"email": client.email, "field": name}
                    )
            restored.append(client)
            entry = _client_entry(client, now, back, Entry.Event.REVERT, batch)
            restored_count += entry is not None
            entries.append(entry)
        Client.objects.bulk_update(restored, ["name", "phone"])
        _entries_create(entries)
    return kept, restored_count
