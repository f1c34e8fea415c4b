from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from history import context, registry
from history.context import Via


class EntryManager(LogEntryManager):
    def log_create(self, instance, force_log: bool = False, **kwargs):
        """django-auditlog's, which every save and delete of a registered model calls, plus what
        this project records beside the change: the client, the source (via, actor)."""
        source = context.current()
        kwargs.setdefault("client_id", registry.client_id_of(instance))
        kwargs.setdefault("via", source.via)
        kwargs.setdefault("actor", source.actor())
        kwargs.setdefault("actor_label", source.actor_label())
        return super().log_create(instance, force_log=force_log, **kwargs)

    def create(self, **kwargs):
        """One plain INSERT (bulk_create of one), not Model.save(): no signals or save
        machinery for a row nothing listens to (~0.05 ms of CPU less an entry; the INSERT's
        round trip itself is most of what recording costs, bench/timeline.py)."""
        entry = self.model(**kwargs)
        self.bulk_create([entry])
        return entry


class Entry(AbstractLogEntry):
    """One change to a client, an order, a note or a task: django-auditlog's log entry
    (AUDITLOG_LOGENTRY_MODEL), with the client it belongs to, how it was made and by whom as
    text that outlives the user. `event` names a change made in bulk, recorded once for the
    whole batch: a merge, an import, an import's revert.

    Read-only for everyone, the admin included (history/admin.py)."""

    class Event(models.TextChoices):
        MERGE = "merge", _("merge")
        IMPORT = "import", _("import")
        REVERT = "revert", _("import reverted")
        TRASH = "trash", _("moved to the trash")
        RESTORE = "restore", _("restored from the trash")

    # auditlog's fields, without the indexes no query here uses: every index is paid on every
    # write of every tracked row. Entries are read by client (below) or by object. No foreign
    # key constraints either: each is a lock on the referenced row at every INSERT (content
    # types are never deleted; a deleted user's entries are set to NULL by Django).
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # history_object starts with it
        db_constraint=False,
        verbose_name=_("content type"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("actor"),
    )
    object_pk = models.CharField(max_length=255, verbose_name=_("object pk"))
    action = models.PositiveSmallIntegerField(
        choices=AbstractLogEntry.Action.choices, verbose_name=_("action")
    )
    cid = models.CharField(  # noqa: DJ001  (auditlog reads and writes None)
        max_length=255, blank=True, null=True, verbose_name=_("correlation ID")
    )
    object_id = models.BigIntegerField(blank=True, null=True, verbose_name=_("object id"))
    timestamp = models.DateTimeField(default=timezone.now, verbose_name=_("time"))
    # auditlog's, which has no verbose name (it would read "serialized data" in every language).
    serialized_data = models.JSONField(null=True, verbose_name=_("the row as it was"))

    # Not a foreign key: the history of a deleted client stays.
    client_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("client id"))
    via = models.CharField(_("via"), max_length=16, choices=Via.choices, default=Via.COMMAND)
    actor_label = models.CharField(_("by"), max_length=200, default=context.SYSTEM)
    event = models.CharField(_("event"), max_length=16, choices=Event.choices, blank=True)

    objects = EntryManager()

    def get_actor_display(self) -> str:
        """Who made the change, in the reader's language (history.display.actor_text), for the
        templates; actor_label itself stays as written, a stable value the API returns."""
        from history.display import actor_text

        return actor_text(self)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-timestamp", "-id"]
        indexes = [
            # A client's timeline and GET /api/clients/<id>/history/, newest first.
            models.Index(fields=["client_id", "-timestamp", "-id"], name="history_client_newest"),
            models.Index(fields=["content_type", "object_id"], name="history_object"),
        ]
