"""Writes of notes and tasks, and who may make them. Pages, the API and the admin call these.

The roles (clients/permissions.py): Sales and Managers add notes and tasks and edit or delete
their own (a note's author; a task's creator or assignee); Managers, holding `moderate_*`,
everyone's; Viewers read. Each write's history is recorded by django-auditlog (history/), and
the client's open pages hear of it after commit (timeline/events, live/). Each write is one
transaction with its history entry."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients import permissions
from clients.events import send_after_commit
from timeline.events import timeline_changed
from timeline.models import Note, Task


# --- Who may ---------------------------------------------------------------------------------
def may_edit_note(user, note: Note) -> bool:
    return user.has_perm(permissions.MODERATE_NOTE) or (
        note.author_id == user.pk and user.has_perm(permissions.CHANGE_NOTE)
    )


def may_delete_note(user, note: Note) -> bool:
    return user.has_perm(permissions.MODERATE_NOTE) or (
        note.author_id == user.pk and user.has_perm(permissions.DELETE_NOTE)
    )


def _own_task(user, task: Task) -> bool:
    return user.pk is not None and user.pk in (task.created_by_id, task.assignee_id)


def may_edit_task(user, task: Task) -> bool:
    return user.has_perm(permissions.MODERATE_TASK) or (
        _own_task(user, task) and user.has_perm(permissions.CHANGE_TASK)
    )


def may_delete_task(user, task: Task) -> bool:
    return user.has_perm(permissions.MODERATE_TASK) or (
        _own_task(user, task) and user.has_perm(permissions.DELETE_TASK)
    )


def assignable_users():
    """Who a task can be given to: active users who may tick it off (Sales, Managers: the
    change permission, through a role or their own), and superusers."""
    app_label, codename = permissions.CHANGE_TASK.split(".")
    users = get_user_model().objects.filter(is_active=True)
    may_change = Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    )
    return users.filter(may_change | Q(is_superuser=True)).distinct()


# --- Notes -----------------------------------------------------------------------------------
def _announce(client_id: int, kind: str, item_id: int, deleted: bool = False) -> None:
    send_after_commit(
        timeline_changed, client_id=client_id, kind=kind, item_id=item_id, deleted=deleted
    )


@transaction.atomic
def note_create(*, client_id: int, author, body: str) -> Note:
    note = Note.objects.create(client_id=client_id, author=author, body=body.strip())
    _announce(client_id, "note", note.pk)
    return note


@transaction.atomic
def note_update(*, note: Note, body: str) -> Note:
    note.body = body.strip()
    note.save(update_fields=["body", "updated_at"])
    _announce(note.client_id, "note", note.pk)
    return note


@transaction.atomic
def note_delete(*, note: Note) -> None:
    client_id, pk = note.client_id, note.pk
    note.delete()
    _announce(client_id, "note", pk, deleted=True)


# --- Tasks -----------------------------------------------------------------------------------
@transaction.atomic
def task_create(
    *, client_id: int, created_by, title: str, due_at, assignee, done: bool = False
) -> Task:
    task = Task.objects.create(
        client_id=client_id,
        created_by=created_by,
        title=title.strip(),
        due_at=due_at,
        assignee=assignee,
        done=done,
        done_at=timezone.now() if done else None,
    )
    _announce(client_id, "task", task.pk)
    return task


@transaction.atomic
def task_update(*, task: Task, **fields) -> Task:
    """Change a task's `title`, `due_at`, `assignee` and/or `done` (which stamps `done_at`)."""
    if "title" in fields:
        fields["title"] = fields["title"].strip()
    if "done" in fields and fields["done"] != task.done:
        task.done_at = timezone.now() if fields["done"] else None
        fields["done_at"] = task.done_at
    for name, value in fields.items():
        setattr(task, name, value)
    task.save(update_fields=list(fields))
    _announce(task.client_id, "task", task.pk)
    return task


def task_set_done(*, task: Task, done: bool = True) -> Task:
    return task_update(task=task, done=done)


@transaction.atomic
def task_delete(*, task: Task) -> None:
    client_id, pk = task.client_id, task.pk
    task.delete()
    _announce(client_id, "task", pk, deleted=True)


# --- A merge ---------------------------------------------------------------------------------
def notes_and_tasks_move(sender, *, source_id: int, target_id: int, **kwargs) -> None:
    """Receiver of clients.events.client_merging: the merged-away client's notes and tasks
    belong to the kept one (one UPDATE each, inside the merge's transaction)."""
    Note.objects.filter(client_id=source_id).update(client_id=target_id)
    Task.objects.filter(client_id=source_id).update(client_id=target_id)
