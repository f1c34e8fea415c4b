import datetime

import factory
from django.utils import timezone

from clients.tests.factories import ClientFactory, UserFactory
from timeline.models import Note, Task


class NoteFactory(factory.django.DjangoModelFactory):
    """A note written straight to the table (no service): its history is still recorded, as
    for any save of a tracked model."""

    class Meta:
        model = Note

    client = factory.SubFactory(ClientFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Note {n}: called, wants a quote")


class TaskFactory(factory.django.DjangoModelFactory):
    """An open task due tomorrow, created by its assignee unless told otherwise."""

    class Meta:
        model = Task

    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))
    assignee = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("assignee")
    done = False
    done_at = factory.LazyAttribute(lambda task: timezone.now() if task.done else None)
