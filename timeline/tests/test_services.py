import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from clients.services import client_merge
from clients.tests.factories import ClientFactory
from history.models import Entry
from timeline.models import Note, Task
from timeline.selectors import timeline_page
from timeline.tests.factories import NoteFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_a_merge_brings_the_notes_and_tasks_and_their_history_to_the_kept_client():
    kept, dupe = ClientFactory(), ClientFactory()
    note = NoteFactory(client=dupe, body="Said on the phone")
    task = TaskFactory(client=dupe, title="Call back")
    note.body = "Said on the phone, twice"
    note.save()
    client_merge(source_id=dupe.pk, target_id=kept.pk)
    assert Note.objects.get().client_id == kept.pk
    assert Task.objects.get().client_id == kept.pk
    note_type = ContentType.objects.get_for_model(Note)
    entries = Entry.objects.filter(content_type=note_type, object_id=note.pk)
    assert list(entries.values_list("client_id", flat=True)) == [kept.pk, kept.pk]
    kinds = {(item.kind, item.obj.pk) for item in timeline_page(client_id=kept.pk).items}
    assert {("note", note.pk), ("task", task.pk)} <= kinds


def test_a_merge_that_fails_moves_no_note(monkeypatch):
    kept, dupe = ClientFactory(), ClientFactory()
    NoteFactory(client=dupe)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("clients.models.Client.delete", fail)
    with pytest.raises(RuntimeError):
        client_merge(source_id=dupe.pk, target_id=kept.pk)
    assert Note.objects.get().client_id == dupe.pk


def test_a_task_created_done_is_one_history_entry(member):
    from timeline.services import task_create

    task = task_create(
        client_id=ClientFactory().pk,
        created_by=member,
        title="Already done",
        due_at=timezone.now(),
        assignee=member,
        done=True,
    )
    assert task.done
    assert task.done_at is not None
    entries = Entry.objects.filter(content_type=ContentType.objects.get_for_model(Task))
    assert [entry.changes["done"] for entry in entries] == [[None, True]]
