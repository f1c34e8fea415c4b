"""Through what, by whom, off the web: management commands and beat tasks are the system's,
through a command (history/context.py's default: nothing to set), and nothing a request or
an import set outlives it."""

import pytest
from celery import shared_task
from django.core.management import call_command
from django.core.management.base import BaseCommand

from clients.models import Client
from clients.tests.factories import ClientFactory, UserFactory
from history.context import SYSTEM, Source, Via, current, recorded_as
from history.models import Entry

pytestmark = pytest.mark.django_db


class AddClientCommand(BaseCommand):
    """A management command that writes, as any of the project's would."""

    def handle(self, *args, **options):
        Client.objects.create(name="From a command", email="command@mail.test")


@shared_task(name="history.tests.add_client")
def add_client_task() -> None:
    Client.objects.create(name="From beat", email="beat@mail.test")


def test_nothing_set_is_the_system_through_a_command():
    source = current()
    assert source == Source()
    assert (source.via, source.actor(), source.actor_label()) == (Via.COMMAND, None, SYSTEM)


def test_a_management_command_is_recorded_as_the_system_through_a_command():
    call_command(AddClientCommand())

    entry = Entry.objects.get()
    assert (entry.via, entry.actor_label, entry.actor_id, entry.action) == (
        Via.COMMAND,
        "system",
        None,
        Entry.Action.CREATE,
    )


def test_a_beat_task_is_recorded_as_the_system_through_a_command():
    add_client_task.apply()

    entry = Entry.objects.get()
    assert (entry.via, entry.actor_label, entry.actor_id) == (Via.COMMAND, "system", None)


def test_a_request_leaves_no_source_behind(member_client):
    member_client.post("/clients/add/", {"name": "Ada", "email": "ada@mail.test", "phone": ""})
    assert current() == Source()

    ClientFactory()  # after the request: a command's write again

    assert list(Entry.objects.order_by("pk").values_list("via", "actor_label")) == [
        (Via.PAGE, "member"),
        (Via.COMMAND, "system"),
    ]


def test_recorded_as_is_undone_even_when_the_write_fails():
    user = UserFactory(username="someone")
    with pytest.raises(ZeroDivisionError), recorded_as(Via.IMPORT, user=user):
        1 / 0  # noqa: B018
    assert current() == Source()
