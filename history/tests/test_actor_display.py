"""Who made a change, in the reader's language: "system" and "API token of …" are translated
where they are shown (the timeline, the admin's object history), never where they are stored."""

import pytest

from clients.tests.factories import ClientFactory
from history.models import Entry

pytestmark = pytest.mark.django_db


def test_a_change_by_the_system_reads_in_the_readers_language(member_client, staff_client):
    ada = ClientFactory(name="Ада")  # no request, no user: recorded as the system's
    assert Entry.objects.get(object_id=str(ada.pk)).actor_label == "system"

    timeline = member_client.get(f"/clients/{ada.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="ru").text
    assert "система" in timeline
    admin = staff_client.get(
        f"/admin/clients/client/{ada.pk}/history/", HTTP_ACCEPT_LANGUAGE="ru"
    ).text
    assert "система" in admin
    assert "system" in member_client.get(f"/clients/{ada.pk}/timeline/").text
