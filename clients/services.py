"""Business rules and writes that touch several rows. Views, the admin and the API call these."""

import time
from dataclasses import dataclass
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q

from clients import events, triggers
from clients.models import Client, Order
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
            "A client cannot be merged into itself: choose two different clients.",
            code="same_client",
        )
    for attempt in range(MERGE_ATTEMPTS):
        try:
            return _merge_once(source_id=source_id, target_id=target_id)
        except _OrdersBusy:
            time.sleep(MERGE_RETRY_SECONDS * (attempt + 1))
    raise MergeError(
        "Someone is changing these clients' orders right now: nothing was merged. "
        "Try again in a moment.",
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
                    f"Client #{pk} no longer exists: it was deleted or merged a moment ago. "
                    "Search again and choose another.",
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
                "orders_moved": moved,
            },
        )

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
