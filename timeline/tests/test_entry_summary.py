"""How a history entry reads on the timeline (timeline/templatetags/timeline.py)."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from clients.models import Order
from clients.services import client_merge
from clients.tests.factories import ClientFactory, OrderFactory
from history.models import Entry
from timeline.templatetags.timeline import entry_summary
from timeline.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def latest(**filters) -> Entry:
    return Entry.objects.filter(**filters).order_by("-timestamp", "-id").first()


def test_a_status_change_reads_in_its_labels():
    order = OrderFactory(title="Widgets", status=Order.Status.NEW)
    order.status = Order.Status.DONE
    order.save()
    summary = entry_summary(latest(action=Entry.Action.UPDATE))
    assert summary["headline"].startswith("Order “Widgets")
    assert summary["rows"] == [("status", "New", "Done")]


def test_a_due_time_reads_in_the_local_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    task = TaskFactory(due_at=datetime.datetime(2026, 12, 24, 8, 0, tzinfo=datetime.UTC))
    task.due_at = datetime.datetime(2026, 12, 24, 9, 30, tzinfo=datetime.UTC)
    task.save()
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        summary = entry_summary(latest(action=Entry.Action.UPDATE))
    (label, old, new) = summary["rows"][0]
    assert label == "due"
    assert "09:00" in old  # 08:00 UTC is 09:00 in Berlin (DATETIME_FORMAT, mini_crm/formats/en)
    assert "10:30" in new


def test_ticking_a_task_off_reads_as_done():
    task = TaskFactory(title="Send the quote")
    task.done, task.done_at = True, timezone.now()
    task.save()
    summary = entry_summary(latest(action=Entry.Action.UPDATE))
    assert summary == {"headline": "Task “Send the quote” done", "rows": []}


def test_a_merge_names_the_client_merged_in_and_the_orders_moved():
    kept, dupe = ClientFactory(phone=""), ClientFactory(name="Dupe", email="dupe@mail.test")
    OrderFactory.create_batch(3, client=dupe)
    client_merge(source_id=dupe.pk, target_id=kept.pk)
    summary = entry_summary(latest(event=Entry.Event.MERGE))
    assert summary["headline"] == (
        "Merged “Dupe” <dupe@mail.test> into this client: 3 orders moved"
    )
    assert summary["rows"] == [("phone", "—", "+49 30 1234567")]


@pytest.mark.parametrize(
    ("event", "headline"),
    [
        (Entry.Event.IMPORT, "Updated by import #7"),
        (Entry.Event.REVERT, "Put back by the revert of import #7"),
    ],
)
def test_an_imports_entries_name_the_import(event, headline):
    client = ClientFactory()
    entry = Entry.objects.log_create(
        client,
        force_log=True,
        action=Entry.Action.UPDATE,
        event=event,
        changes={"phone": ["+49 1", "+49 2"]},
        additional_data={"import": 7},
    )
    summary = entry_summary(entry)
    assert summary["headline"] == headline
    assert summary["rows"] == [("phone", "+49 1", "+49 2")]
