import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client

NOTE_MAX_LENGTH = 10_000


class Note(models.Model):
    """What was said or learnt about a client ("called, wants a quote by Friday"), in a small
    Markdown subset (timeline/markdown.py). Edited or deleted by its author or a manager; every
    edit is in the history."""

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="notes",
        db_index=False,
        verbose_name=_("client"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="notes",
        verbose_name=_("author"),
    )
    body = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("edited"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [
            # The timeline (and the foreign key's lookups and cascade); /notes/ newest first.
            models.Index(fields=["client", "-created_at", "-id"], name="note_client_newest"),
            models.Index(fields=["-created_at", "-id"], name="note_newest"),
        ]
        permissions = [("moderate_note", _("Can edit and delete anyone's notes"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body=""),
                name="note_body_not_empty",
                violation_error_message=_("A note cannot be empty."),
            ),
        ]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def is_edited(self) -> bool:
        # Both stamps are taken as the note is first saved, a moment apart.
        return self.updated_at - self.created_at > datetime.timedelta(seconds=5)


class TaskQuerySet(models.QuerySet):
    def open(self) -> "TaskQuerySet":
        return self.filter(done=False)

    def due_by(self, moment) -> "TaskQuerySet":
        """Open tasks due at or before `moment` (today's and the overdue, for a digest)."""
        return self.open().filter(due_at__lte=moment)


class Task(models.Model):
    """A follow-up: what must be done for a client, by whom and by when."""

    client = models.ForeignKey(
        Client,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,
        verbose_name=_("client"),
    )
    title = models.CharField(_("task"), max_length=200)
    due_at = models.DateTimeField(_("due"))
    # Null only once the user is deleted; the forms and the API require one.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="tasks",
        verbose_name=_("assignee"),
    )
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["client", "-created_at", "-id"], name="task_client_newest"),
            # /tasks/ (one assignee's, open first, by due date) and the daily digest.
            models.Index(fields=["assignee", "done", "due_at"], name="task_assignee_due"),
            models.Index(fields=["done", "due_at"], name="task_due"),
            # The API's ?ordering= on due_at and created_at (api/checks.py: only indexed fields).
            models.Index(fields=["due_at", "id"], name="task_by_due"),
            models.Index(fields=["-created_at", "-id"], name="task_newest"),
        ]
        permissions = [("moderate_task", _("Can edit and delete anyone's tasks"))]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title=""),
                name="task_title_not_empty",
                violation_error_message=_("A task needs a title."),
            ),
            models.CheckConstraint(
                condition=Q(done=False, done_at__isnull=True) | Q(done=True, done_at__isnull=False),
                name="task_done_at_when_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, now=None) -> bool:
        return not self.done and self.due_at < (now or timezone.now())


class TaskDigest(models.Model):
    """One daily digest sent (or being sent) to one user, for one day of their time zone: the
    unique pair is the claim that makes the digest go out once a day whatever the number of
    beat runs or workers (timeline/digest.py, digests_send). A claim left unsent for
    DIGEST_CLAIM_LEASE (its worker killed mid-send) is taken over by the next run."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    day = models.DateField(_("day"))
    tasks = models.PositiveIntegerField(_("tasks"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True)

    class Meta:
        verbose_name = _("task digest")
        verbose_name_plural = _("task digests")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="task_digest_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.day}"
