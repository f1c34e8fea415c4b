"""History written by hand: the changes that bulk paths (QuerySet.update(), bulk_create())
make without a model signal, one entry per batch."""

from django.contrib.contenttypes.models import ContentType

from history.models import Entry


def entry_record(
    *,
    instance,
    event: str,
    action: int = Entry.Action.UPDATE,
    changes: dict | None = None,
    data: dict | None = None,
    client_id: int | None = None,
) -> Entry:
    """Record one entry about `instance` for a whole batch (a merge, an import's batch, a
    revert), under `client_id` (by default, the one `instance` belongs to), by the current
    source (history/context.py)."""
    kwargs = {"client_id": client_id} if client_id is not None else {}
    return Entry.objects.log_create(
        instance,
        force_log=True,
        action=action,
        event=event,
        changes=changes or {},
        additional_data=data,
        **kwargs,
    )


def entries_move(*, from_client_id: int, to_client_id: int, keep=None) -> int:
    """Move history entries from one client to another (a merge: the orders, notes and tasks
    that moved bring their history along), except the entries about `keep` objects (the
    merged-away client's own stay with its id)."""
    entries = Entry.objects.filter(client_id=from_client_id)
    if keep is not None:
        entries = entries.exclude(content_type=ContentType.objects.get_for_model(keep))
    return entries.update(client_id=to_client_id)
