"""The export's created_at is in the requesting user's time zone (their profile's), under WSGI
and ASGI alike, though its rows are made while the response streams; its header stays the
English field names in every language."""

import csv
import io
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from clients.models import Client
from clients.permissions import MANAGERS
from clients.tests.factories import ClientFactory, UserFactory
from core.models import Profile

pytestmark = pytest.mark.django_db

URL = "/clients/export.csv"
HEADER = ["id", "name", "email", "phone", "vip", "created_at", "orders_count", "orders_total"]


def tokyo_user(username="kenji"):
    user = UserFactory(username=username, roles=[MANAGERS])
    Profile.objects.create(user=user, time_zone="Asia/Tokyo", language="ru")
    return user


def dated_client():
    client = ClientFactory(name="Acme GmbH", email="acme@mail.test")
    Client.objects.filter(pk=client.pk).update(created_at=datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    return client


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_created_at_in_the_users_zone_and_the_header_english_under_wsgi(client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    dated_client()
    client.force_login(tokyo_user())

    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru")
    # The rows are made here, after the view and the middleware have returned.
    timezone.deactivate()
    header, row = parse(b"".join(response.streaming_content))

    assert header == HEADER
    assert row[5] == "2026-12-02 05:00:00+09:00"  # 20:00 UTC, the next morning in Tokyo


@pytest.mark.django_db(transaction=True)
async def test_created_at_in_the_users_zone_under_asgi(async_client, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    await sync_to_async(dated_client)()
    await async_client.aforce_login(await sync_to_async(tokyo_user)("kenji-asgi"))

    try:
        response = await async_client.get(URL)
        assert response.is_async
        data = b"".join([part async for part in response.streaming_content])
    finally:
        await sync_to_async(connections.close_all)()
    header, row = parse(data)
    assert header == HEADER
    assert row[5] == "2026-12-02 05:00:00+09:00"
