"""Business rules and writes that touch several rows. Views, the admin and the API call these."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from clients import events
from clients.models import Client, Order
from clients.validators import email_domain


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


def client_merge(*, source_id: int, target_id: int) -> MergeResult:
    """Merge the duplicate `source` into `target`, all or nothing: the source's orders move to
    the target (one UPDATE), the target's empty phone and avatar are filled from the source,
    the target is VIP if either was, and the source is deleted. The list cache (and any other
    `clients_changed` subscriber) hears of it once the transaction commits.

    Raises MergeError when source and target are the same client or either no longer exists.
    """
    if source_id == target_id:
        raise MergeError(
            "A client cannot be merged into itself: choose two different clients.",
            code="same_client",
        )
    with transaction.atomic():
        # Lock both rows, always lower id first. Two people merging A→B and B→A at once would
        # otherwise each lock their source and wait for the other's: a deadlock, which
        # PostgreSQL breaks by failing one of them with an error. In one global order the
        # second simply waits, then finds its client gone (a clear MergeError below).
        # The lock (FOR UPDATE, not FOR NO KEY UPDATE) also keeps an order added to the source
        # meanwhile from being lost: the foreign-key check of the inserting transaction (at
        # its commit: Django's constraints are deferred) needs a KEY SHARE lock on the source,
        # so it waits for the merge and then fails, rather than slipping in between the
        # UPDATE and the DELETE and being deleted with the source.
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

        moved = Order.objects.filter(client_id=source.pk).update(client_id=target.pk)

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
            target.save(update_fields=filled)

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
