"""The timeline's domain event, sent after commit (clients.events.send_after_commit)."""

from django.dispatch import Signal

# A note or task of a client was added, changed or deleted. Arguments: client_id, kind ("note"
# or "task"), item_id, deleted.
timeline_changed = Signal()
