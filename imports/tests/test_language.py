"""The worker runs each import in its creator's language and time zone: the row errors and the
summary it stores read in their language on the page later; a file's statuses may be written
in either language."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from clients.models import Order
from clients.tests.factories import ClientFactory, UserFactory
from core.models import Profile
from imports import services, tasks
from imports.models import Import
from imports.tests.files import CLIENT_HEADER, csv_bytes, upload

pytestmark = pytest.mark.django_db

ORDER_HEADER = ["Client email", "Title", "Amount", "Status", "Created at"]


def person(username, *, language="", time_zone=""):
    user = UserFactory(username=username, roles=["Managers"])
    Profile.objects.create(user=user, language=language, time_zone=time_zone)
    return user


def checked_by_the_worker(user, rows, *, kind="clients") -> Import:
    name = "clients.csv" if kind == "clients" else "orders.csv"
    batch = services.import_create(user=user, kind=kind, upload=upload(csv_bytes(rows), name))
    # Where the worker runs it: no request, and whatever language the process has.
    with translation.override("en"):
        tasks.check(batch.pk)
    return Import.objects.get(pk=batch.pk)


def test_a_russian_users_import_stores_its_row_errors_in_russian():
    olga = person("olga", language="ru")

    batch = checked_by_the_worker(olga, [CLIENT_HEADER, ["", "ann@mail.test", ""]])

    [error] = batch.errors
    assert error["field"] == "name"
    assert error["message"] == "Обязательное поле."


def test_an_english_users_import_in_the_same_worker_stays_english():
    anna = person("anna", language="en")

    with translation.override("ru"):
        batch = services.import_create(
            user=anna,
            kind="clients",
            upload=upload(csv_bytes([CLIENT_HEADER, ["", "ann@mail.test", ""]])),
        )
        tasks.check(batch.pk)

    batch.refresh_from_db()
    assert batch.errors[0]["message"] == "This field is required."


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Новый", Order.Status.NEW),
        ("в работе", Order.Status.IN_PROGRESS),
        ("Выполнен", Order.Status.DONE),
        ("new", Order.Status.NEW),
        ("In progress", Order.Status.IN_PROGRESS),
        ("DONE", Order.Status.DONE),
    ],
)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_status_written_in_either_language_is_accepted(language, written, code):
    user = person(f"user-{language}", language=language)
    ClientFactory(email="ann@mail.test")

    batch = checked_by_the_worker(
        user, [ORDER_HEADER, ["ann@mail.test", "Desk", "5", written, ""]], kind="orders"
    )

    assert batch.errors == []
    assert batch.invalid == 0
    tasks.commit(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Import.Status.DONE
    assert Order.objects.get(title="Desk").status == code


def test_a_date_without_a_zone_is_read_on_the_creators_clock():
    tokyo = person("kenji", time_zone="Asia/Tokyo")
    ClientFactory(email="ann@mail.test")

    batch = checked_by_the_worker(
        tokyo,
        [ORDER_HEADER, ["ann@mail.test", "Desk", "5", "", "2026-11-30 09:00"]],
        kind="orders",
    )
    tasks.commit(batch.pk)

    created = Order.objects.get(title="Desk").created_at
    assert created == datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_big_file_is_checked_in_the_language_and_zone_of_the_request_that_queued_it(
    monkeypatch, django_capture_on_commit_callbacks
):
    # No language on the profile: the request's (the browser's) is the one a small file would
    # be checked in, inside the request, so the worker is told it.
    vera = person("vera")
    sent = []
    monkeypatch.setattr(tasks.check, "delay", lambda *args, **kwargs: sent.append(kwargs))
    with (
        translation.override("ru"),
        timezone.override(ZoneInfo("Asia/Tokyo")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services._queue(
            "check",
            services.import_create(
                user=vera,
                kind="clients",
                upload=upload(csv_bytes([CLIENT_HEADER, ["Вера", "v@b.test", ""]])),
            ),
        )
    assert sent[-1] == {"language": "ru", "time_zone": "Asia/Tokyo"}


def test_the_worker_speaks_as_the_request_that_queued_it():
    vera = person("vera")  # no language on her profile: the business's would be English

    batch = services.import_create(
        user=vera, kind="clients", upload=upload(csv_bytes([CLIENT_HEADER, ["", "a@b.test", ""]]))
    )
    with translation.override("en"):
        tasks.check(batch.pk, language="ru", time_zone="Asia/Tokyo")

    batch.refresh_from_db()
    assert batch.errors[0]["message"] == "Обязательное поле."
