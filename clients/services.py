"""Business rules and writes that touch several rows. Views, the admin and the API call these."""

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients import events, triggers
from clients.models import ZERO, Client, Order, SnapshotEncoder, TrashedClient
from clients.validators import email_domain
from history.models import Entry
from history.services import entries_move, entry_record


def is_vip_email(email: str) -> bool:
    """True when the address is exactly at one of settings.VIP_EMAIL_DOMAINS (not a subdomain,
    not a lookalike such as notcompany.com)."""
    return email_domain(email) in {d.lower() for d in settings.VIP_EMAIL_DOMAINS}


class MergeError(Exception):
    """A merge that cannot happen: the same client twice, or a client that no longer exists
    (deleted, or merged away by someone else a moment ago). The message is for the user;
    `code` ("same_client" or "not_found") lets the API choose its status (400 or 404)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: the kept client (as saved), the removed one, and what moved."""

    target: Client
    source_id: int
    source_name: str
    orders_moved: int
    filled_fields: tuple[str, ...]  # the target's fields filled from the source


# A merge that finds one of the source's orders locked by another writer steps back and tries
# again this many times, this many seconds apart (times the attempt).
MERGE_ATTEMPTS = 5
MERGE_RETRY_SECONDS = 0.05


def client_merge(*, source_id: int, target_id: int) -> MergeResult:
    """Merge the duplicate `source` into `target`, all or nothing: the source's orders move to
    the target (one UPDATE), the target's empty phone and avatar are filled from the source,
    the target is VIP if either was, and the source is deleted. The list cache (and any other
    `clients_changed` subscriber) hears of it once the transaction commits.

    Raises MergeError when source and target are the same client, either no longer exists,
    or their orders stay busy with other writers (code "busy": try again).
    """
    if source_id == target_id:
        raise MergeError(
            _("A client cannot be merged into itself: choose two different clients."),
            code="same_client",
        )
    for attempt in range(MERGE_ATTEMPTS):
        try:
            return _merge_once(source_id=source_id, target_id=target_id)
        except _OrdersBusy:
            time.sleep(MERGE_RETRY_SECONDS * (attempt + 1))
    raise MergeError(
        _(
            "Someone is changing these clients' orders right now: nothing was merged. "
            "Try again in a moment."
        ),
        code="busy",
    )


class _OrdersBusy(Exception):
    pass


def _history_value(client: Client, name: str):
    value = getattr(client, name)
    return value.name if name == "avatar" else value


def _merge_once(*, source_id: int, target_id: int) -> MergeResult:
    with transaction.atomic():
        # Lock both rows, always lower id first. Two people merging A→B and B→A at once would
        # otherwise each lock their source and wait for the other's: a deadlock, which
        # PostgreSQL breaks by failing one of them with an error. In one global order the
        # second simply waits, then finds its client gone (a clear MergeError below).
        # The lock (FOR UPDATE) also keeps an order added to the source meanwhile from being
        # lost: the inserting statement's roll-up trigger (clients/triggers.py) locks the
        # source's row too, so it waits for the merge and then fails on the deleted client,
        # rather than slipping in between the UPDATE and the DELETE and being deleted with it.
        locked = {}
        for pk in sorted((source_id, target_id)):
            client = Client.objects.select_for_update().filter(pk=pk).first()
            if client is None:
                raise MergeError(
                    _(
                        "Client #%(id)s no longer exists: it was deleted or merged a moment "
                        "ago. Search again and choose another."
                    )
                    % {"id": pk},
                    code="not_found",
                )
            locked[pk] = client
        source, target = locked[source_id], locked[target_id]
        # Then the source's orders, without waiting: a writer editing one of them holds the
        # order and waits for its client (the roll-up trigger locks orders, then clients), so
        # waiting here would be a deadlock. The merge steps back instead (client_merge
        # retries); once the clients are locked, no order can join the source unseen.
        orders = Order.objects.select_for_update(nowait=True).filter(client_id=source.pk)
        try:
            list(orders.order_by("pk").values_list("pk"))
        except OperationalError:  # "could not obtain lock": the whole attempt rolls back
            raise _OrdersBusy from None

        moved = Order.objects.filter(client_id=source.pk).update(client_id=target.pk)
        # What other apps keep for the source moves too (its delete would take it: notes and
        # tasks, timeline/), and what moved brings its history along; the source's own
        # entries stay under its id.
        events.client_merging.send(sender=Client, source_id=source.pk, target_id=target.pk)
        entries_move(from_client_id=source.pk, to_client_id=target.pk, keep=Client)

        filled = _merge_fields(source=source, target=target, orders_moved=moved)
        source.delete()
        # A bulk UPDATE sends no model signal: announce the change ourselves (after commit).
        events.send_after_commit(events.clients_changed)
    return MergeResult(
        target=target,
        source_id=source_id,
        source_name=source.name,
        orders_moved=moved,
        filled_fields=tuple(filled),
    )


def _merge_fields(*, source: Client, target: Client, orders_moved: int) -> list[str]:
    """Fill the target's empty phone and avatar from the source, VIP if either was, and record
    the merge on the target; returns the fields filled. `source` may be a client about to be
    deleted or one coming back from the trash (never saved)."""
    before = {"phone": target.phone, "avatar": target.avatar.name, "vip": target.vip}
    filled = []
    if not target.phone and source.phone:
        target.phone = source.phone
        filled.append("phone")
    if not target.avatar and source.avatar:
        target.avatar = source.avatar.name
        # django-cleanup deletes the files of a deleted client (after commit): the source
        # must no longer point at the file that now belongs to the target.
        source.avatar = ""
        filled.append("avatar")
    if source.vip and not target.vip:
        target.vip = True
        filled.append("vip")
    if filled:
        with disable_auditlog():  # recorded with the merge, below
            target.save(update_fields=filled)
    entry_record(
        instance=target,
        event=Entry.Event.MERGE,
        changes={name: [before[name], _history_value(target, name)] for name in filled},
        data={
            "source": {"id": source.pk, "name": source.name, "email": source.email},
            "orders_moved": orders_moved,
        },
    )
    return filled


# --- The trash (clients.models.TrashedClient) --------------------------------------------------
class TrashError(Exception):
    """A restore that cannot happen. `code`: "not_found" (purged, or restored a moment ago),
    "email_taken" (`client` is the live client that has the email now: merge into it
    instead), "busy" (the client's rows changed while being trashed: try again)."""

    def __init__(self, message: str, *, code: str, client: Client | None = None):
        super().__init__(message)
        self.code = code
        self.client = client


@dataclass(frozen=True)
class RestoreResult:
    client: Client  # the restored client, or the live one it was merged into
    orders: int
    merged: bool


def _dependents() -> list[tuple[type[models.Model], str]]:
    """The models a client's delete cascades to (orders, notes, tasks, any added later), with
    the column naming the client: what goes to the trash with it."""
    return sorted(
        (
            (relation.related_model, relation.field.attname)
            for relation in Client._meta.related_objects
            if relation.on_delete is models.CASCADE
        ),
        key=lambda dependent: dependent[0]._meta.label_lower,
    )


def _snapshot(queryset: models.QuerySet) -> dict:
    columns = [field.attname for field in queryset.model._meta.concrete_fields]
    return {"columns": columns, "values": [list(row) for row in queryset.values_list(*columns)]}


def _rows(model: type[models.Model], snapshot: dict, **overrides) -> list[dict]:
    """A snapshot's rows as {column: value} (JSON values), with the columns the model has today
    (a column since dropped is left out)."""
    fields = {field.attname for field in model._meta.concrete_fields}
    known = [(i, name) for i, name in enumerate(snapshot["columns"]) if name in fields]
    return [{name: values[i] for i, name in known} | overrides for values in snapshot["values"]]


def _instance(model: type[models.Model], row: dict) -> models.Model:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return model(**{name: fields[name].to_python(value) for name, value in row.items()})


def _forget_missing_references(model: type[models.Model], rows: list[dict], *, skip: str) -> None:
    # A user deleted while the client was in the trash (a note's author, a task's assignee):
    # the row comes back without them, as their delete would have left it (SET_NULL).
    for field in model._meta.concrete_fields:
        if not field.is_relation or field.attname == skip or not rows:
            continue
        wanted = {row.get(field.attname) for row in rows} - {None}
        existing = set(
            field.related_model._base_manager.filter(pk__in=wanted).values_list("pk", flat=True)
        )
        for row in rows:
            if row.get(field.attname) not in existing:
                row[field.attname] = None


def _insert_as_they_were(model: type[models.Model], rows: list[dict]) -> None:
    """INSERT the rows with the values they had, sending no model signal.

    On PostgreSQL in one statement that reads the JSON itself (jsonb_populate_recordset): a
    client's 100,000 orders in seconds, where building and bulk-creating as many instances
    took 15 s. Otherwise, and for rows trashed before a field was added (its default is
    Python's), with bulk_create, whose auto_now(_add) stamps are written back after it.
    """
    columns = [field.attname for field in model._meta.concrete_fields]
    if connection.vendor == "postgresql" and rows and set(columns) <= set(rows[0]):
        quote = connection.ops.quote_name
        table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} "
                f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)",
                [json.dumps(rows, cls=SnapshotEncoder)],
            )
        return
    instances = [_instance(model, row) for row in rows]
    model._base_manager.bulk_create(instances, batch_size=2000)
    stamped = [
        field
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    for row, obj in zip(rows, instances, strict=True):
        kept = {f.attname: f.to_python(row[f.attname]) for f in stamped if f.attname in row}
        if kept:
            model._base_manager.filter(pk=obj.pk).update(**kept)


def client_trash(*, client_id: int, user=None) -> TrashedClient:
    """Move the client and what its delete would take (orders, notes, tasks) to the trash, in
    one transaction: out of every list, total, export, report and dashboard (the roll-up
    triggers see a delete), restorable for TRASH_DAYS. Raises TrashError: "not_found" (deleted
    or merged meanwhile), "busy"."""
    with transaction.atomic():
        dependents = _dependents()
        # The dependents' rows first, then the client: an order being edited holds its row and
        # then waits for its client (the roll-up trigger), so locking the client first would
        # deadlock with it.
        for model, column in dependents:
            list(model._base_manager.select_for_update().filter(**{column: client_id}).values("pk"))
        client = Client.objects.select_for_update().filter(pk=client_id).first()
        if client is None:
            raise TrashError(
                _("This client no longer exists: it was deleted or merged a moment ago."),
                code="not_found",
            )
        rows = {"clients.client": _snapshot(Client.objects.filter(pk=client_id))}
        for model, column in dependents:
            rows[model._meta.label_lower] = _snapshot(
                model._base_manager.filter(**{column: client_id}).order_by("pk")
            )
        trashed = TrashedClient.objects.create(
            client_id=client.pk,
            name=client.name,
            email=client.email,
            avatar=client.avatar.name or "",
            orders_count=client.orders_count,
            orders_total=client.orders_total,
            deleted_by=user if user is not None and user.is_authenticated else None,
            rows=rows,
        )
        # One DELETE per table, without model signals: nothing is recorded or cleaned up per
        # row (the avatar's file stays for a restore), the triggers take the orders out of the
        # totals, and the events below go out once.
        with connection.cursor() as cursor:
            for model, column in (*dependents, (Client, "id")):
                table, name = (connection.ops.quote_name(n) for n in (model._meta.db_table, column))
                cursor.execute(f"DELETE FROM {table} WHERE {name} = %s", [client_id])
                kept = len(rows[model._meta.label_lower]["values"])
                if cursor.rowcount != kept:  # a row slipped in unlocked: nothing is trashed
                    raise TrashError(
                        _("This client changed while it was being deleted: try again."),
                        code="busy",
                    )
        entry_record(
            instance=client,
            action=Entry.Action.DELETE,
            event=Entry.Event.TRASH,
            data={"orders": client.orders_count},
        )
        events.send_after_commit(events.clients_changed)
        events.send_after_commit(events.order_changed, order_id=None, deleted=True)
    return trashed


def _email_free_or_raise(email: str) -> None:
    taken = Client.objects.filter(email=email).first()
    if taken is not None:
        raise TrashError(
            _(
                "“%(name)s” now has the email %(email)s: merge the trashed client into it, "
                "or change its email first."
            )
            % {"name": taken.name, "email": taken.email},
            code="email_taken",
            client=taken,
        )


def client_restore(*, client_id: int, into_id: int | None = None) -> RestoreResult:
    """Bring a trashed client back with its orders, notes and tasks, under the ids they had.
    With `into_id`, merge what it held into that live client instead (when a new client has
    taken its email: TrashError "email_taken" says which)."""
    with transaction.atomic():
        trashed = TrashedClient.objects.select_for_update().filter(client_id=client_id).first()
        if trashed is None:
            raise TrashError(
                _("This client is no longer in the trash: it was restored or purged."),
                code="not_found",
            )
        (row,) = _rows(Client, trashed.rows["clients.client"])
        client = _instance(Client, row)
        if into_id is None:
            _email_free_or_raise(client.email)
            # The triggers count its orders back in as they are inserted.
            row |= {"orders_count": 0, "open_orders_count": 0, "orders_total": ZERO}
            try:
                with transaction.atomic():
                    _insert_as_they_were(Client, [row])  # as it was: no VIP rule, no history
            except IntegrityError:
                # A client took the email since the check (the unique constraint's answer).
                _email_free_or_raise(client.email)
                raise
            target = client
        else:
            target = Client.objects.select_for_update().filter(pk=into_id).first()
            if target is None:
                raise TrashError(
                    _("Client #%(id)s no longer exists.") % {"id": into_id}, code="not_found"
                )
        restored = {}
        for model, column in _dependents():
            snapshot = trashed.rows.get(model._meta.label_lower)
            if not snapshot:
                continue
            rows = _rows(model, snapshot, **{column: target.pk})
            _forget_missing_references(model, rows, skip=column)
            _insert_as_they_were(model, rows)
            restored[model] = len(rows)
        orders = restored.get(Order, 0)
        if into_id is None:
            entry_record(
                instance=target,
                action=Entry.Action.CREATE,
                event=Entry.Event.RESTORE,
                data={"orders": orders},
            )
        else:
            entries_move(from_client_id=client_id, to_client_id=target.pk, keep=Client)
            _merge_fields(source=client, target=target, orders_moved=orders)
            if client.avatar:  # not taken by the target: nothing points at the file now
                name = client.avatar.name
                transaction.on_commit(lambda: client.avatar.storage.delete(name), robust=True)
        trashed.delete()
        events.send_after_commit(events.clients_changed)
        events.send_after_commit(events.order_changed, order_id=None, deleted=False)
    target.refresh_from_db()
    return RestoreResult(client=target, orders=orders, merged=into_id is not None)


def trash_purge(*, older_than: timedelta | None = None, client_ids: list[int] | None = None) -> int:
    """Delete for good what has been in the trash longer than `older_than` (the daily purge,
    TRASH_DAYS), or the trashed `client_ids` (the admin), or everything (None for both: a
    superuser empties the trash), and the avatars' files once the transaction commits. Returns
    how many clients were purged."""
    trash = TrashedClient.objects.all()
    if older_than is not None:
        trash = trash.filter(deleted_at__lt=timezone.now() - older_than)
    if client_ids is not None:
        trash = trash.filter(client_id__in=client_ids)
    with transaction.atomic():
        # What is deleted is what was locked and read: a client trashed meanwhile stays (with
        # its avatar) for the next purge.
        locked = list(trash.select_for_update().values_list("pk", "avatar"))
        purged, _counts = TrashedClient.objects.filter(pk__in=[pk for pk, _ in locked]).delete()
        names = [name for _, name in locked if name]
        if names:
            transaction.on_commit(lambda: _files_delete(names), robust=True)
    return purged


def _files_delete(names: list[str]) -> None:
    storage = Client._meta.get_field("avatar").storage
    still_used = set(Client.objects.filter(avatar__in=names).values_list("avatar", flat=True))
    for name in set(names) - still_used:
        storage.delete(name)


# --- The stored roll-ups (clients/triggers.py) -------------------------------------------------
ROLLUPS = ("orders_count", "orders_total", "open_orders_count")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class TotalsDrift:
    """A client whose stored roll-ups differ from a fresh aggregate of its orders."""

    client_id: int
    stored: dict[str, int | Decimal]
    computed: dict[str, int | Decimal]

    def __str__(self) -> str:
        fields = [
            f"{name} stored {self.stored[name]}, computed {self.computed[name]}"
            for name in ROLLUPS
            if self.stored[name] != self.computed[name]
        ]
        return f"client #{self.client_id}: {'; '.join(fields)}"


def _exact(value):
    # SQLite hands the rounded sum back as Decimal("5"): always two places, as stored.
    return value.quantize(CENTS) if isinstance(value, Decimal) else value


def totals_drift() -> list[TotalsDrift]:
    """Every client whose stored roll-ups differ from `Client.objects.with_computed_totals()`,
    by id: one GROUP BY over all the orders (a few seconds at a million)."""
    differs = Q()
    for name in ROLLUPS:
        differs |= ~Q(**{name: F(f"computed_{name}")})
    rows = (
        Client.objects.with_computed_totals()
        .filter(differs)
        .order_by("pk")
        .values("pk", *ROLLUPS, *(f"computed_{name}" for name in ROLLUPS))
    )
    return [
        TotalsDrift(
            client_id=row["pk"],
            stored={name: row[name] for name in ROLLUPS},
            computed={name: _exact(row[f"computed_{name}"]) for name in ROLLUPS},
        )
        for row in rows
    ]


def missing_triggers() -> set[str]:
    """The roll-up triggers the database should have and has not (then nothing keeps the
    totals: `manage.py migrate` installs them)."""
    return triggers.ROLLUP_TRIGGERS.missing(connection)


def totals_fix(client_ids: list[int]) -> int:
    """Recompute the roll-ups of these clients from their orders; returns how many changed.

    The clients are locked first, so an order written meanwhile either committed before (and
    is counted) or waits for this transaction (and its trigger then adds to the fixed value).
    """
    if not client_ids:
        return 0
    with transaction.atomic():
        locked = Client.objects.select_for_update().filter(pk__in=client_ids).order_by("pk")
        ids = list(locked.values_list("pk", flat=True))
        fresh = Client.objects.filter(pk__in=ids).with_computed_totals()
        changed = 0
        for row in fresh.values("pk", *(f"computed_{name}" for name in ROLLUPS)):
            values = {name: row[f"computed_{name}"] for name in ROLLUPS}
            changed += Client.objects.filter(pk=row["pk"]).exclude(**values).update(**values)
    if changed:
        events.send_after_commit(events.clients_changed, orders_only=True)
    return changed
