"""The daily task digest: once a day at TASK_DIGEST_HOUR of each assignee's time zone, what it
lists, no mail when nothing is due, failures released, racing claims, and a real SMTP server."""

import logging
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.tests.factories import ClientFactory, UserFactory
from core.models import Profile
from core.testing import smtp_server
from mini_crm.celery import app
from timeline import digest
from timeline.digest import digests_send
from timeline.models import Task, TaskDigest
from timeline.tasks import send_digests

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")  # UTC+2 in early October
NEW_YORK = ZoneInfo("America/New_York")  # UTC-4 in early October
DAY = datetime(2026, 10, 6).date()  # a Tuesday


def berlin(hour, minute=0, *, day=6) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=BERLIN)


def new_york(hour, minute=0, *, day=6) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def _digest_settings(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.TASK_DIGEST_HOUR = 7
    settings.ALLOWED_HOSTS = ["crm.example.org", "localhost"]
    settings.SESSION_COOKIE_SECURE = True
    settings.DEFAULT_FROM_EMAIL = "Mini CRM <crm@mail.test>"


def assignee(username="anna", time_zone="Europe/Berlin", **fields):
    fields.setdefault("email", f"{username}@mail.test")
    user = UserFactory(username=username, **fields)
    if time_zone is not None:
        Profile.objects.create(user=user, time_zone=time_zone)
    return user


def task(user, due_at, title="Call back", *, done=False, client=None) -> Task:
    return Task.objects.create(
        client=client or ClientFactory(name="Acme GmbH"),
        assignee=user,
        title=title,
        due_at=due_at,
        done=done,
        done_at=timezone.now() if done else None,
    )


@pytest.fixture
def smtp_down(monkeypatch):
    def refuse(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


# --- When -------------------------------------------------------------------------------------


def test_before_the_hour_nothing_from_the_hour_one_mail():
    user = assignee()
    task(user, berlin(10))

    assert digests_send(now=berlin(6, 59)) == 0
    assert mail.outbox == []
    assert not TaskDigest.objects.exists()

    assert digests_send(now=berlin(7, 5)) == 1
    [message] = mail.outbox
    assert message.to == ["anna@mail.test"]
    assert message.from_email == "Mini CRM <crm@mail.test>"
    sent = TaskDigest.objects.get()
    assert (sent.user, sent.day, sent.tasks) == (user, DAY, 1)
    assert sent.sent_at is not None


def test_the_later_runs_of_the_same_day_send_nothing_more():
    task(assignee(), berlin(10))

    sent = [digests_send(now=berlin(hour, 5)) for hour in (7, 8, 12, 23)]

    assert sent == [1, 0, 0, 0]
    assert len(mail.outbox) == 1


def test_the_next_local_day_sends_again():
    user = assignee()
    task(user, berlin(10))  # still open tomorrow: overdue then
    task(user, berlin(9, day=7), title="Send the quote")

    assert digests_send(now=berlin(7, 5)) == 1
    assert digests_send(now=berlin(7, 5, day=7)) == 1

    assert len(mail.outbox) == 2
    assert "Send the quote" not in mail.outbox[0].body
    assert "Send the quote" in mail.outbox[1].body
    assert sorted(TaskDigest.objects.values_list("day", flat=True)) == [
        DAY,
        DAY + timedelta(days=1),
    ]


def test_each_user_at_their_own_hour():
    """New York's 07:00 is 13:00 in Berlin: the Berlin user has theirs at 07:05, the New York
    user not before 13:00 Berlin time."""
    anna = assignee("anna", "Europe/Berlin")
    bob = assignee("bob", "America/New_York")
    task(anna, berlin(10))
    task(bob, new_york(10))

    assert digests_send(now=berlin(7, 5)) == 1
    assert mail.outbox[-1].to == ["anna@mail.test"]
    assert digests_send(now=berlin(12, 59)) == 0  # 06:59 in New York
    assert digests_send(now=berlin(13, 0)) == 1
    assert mail.outbox[-1].to == ["bob@mail.test"]
    assert TaskDigest.objects.get(user=bob).day == DAY


def test_the_day_is_the_users_own_not_the_servers():
    """21:00 in New York is already tomorrow in Berlin and in UTC: still the same New York day,
    whose digest went out at 07:00."""
    bob = assignee("bob", "America/New_York")
    task(bob, new_york(22))

    assert digests_send(now=new_york(7)) == 1
    assert digests_send(now=new_york(21)) == 0
    assert len(mail.outbox) == 1


def test_without_a_profile_the_business_time_zone_counts():
    user = assignee(time_zone=None)
    task(user, berlin(10))

    assert digests_send(now=berlin(6, 59)) == 0
    assert digests_send(now=berlin(7)) == 1


# --- What -------------------------------------------------------------------------------------


def test_lists_the_overdue_then_todays_and_not_tomorrows_nor_done_nor_others():
    user = assignee()
    acme = ClientFactory(name="Acme GmbH")
    globex = ClientFactory(name="Globex AG")
    task(user, berlin(16, day=5), "Overdue since yesterday", client=acme)
    task(user, berlin(6), "Due before the digest went", client=acme)
    task(user, berlin(11, 30), "Due at half past eleven", client=globex)
    task(user, berlin(23, 59), "Due just before midnight", client=acme)
    task(user, berlin(0, day=7), "Due at midnight tomorrow", client=acme)
    task(user, berlin(9), "Already done", done=True, client=acme)
    task(assignee("other"), berlin(9), "Someone else's", client=acme)

    digests_send(now=berlin(7, 5))

    [message] = [m for m in mail.outbox if m.to == ["anna@mail.test"]]
    body = message.body
    assert message.subject == "4 tasks for Oct 6, 2026"
    assert "You have 4 open tasks due today or overdue." in body
    # Overdue as on /tasks/: due before now, so this morning's 06:00 too.
    assert body.index("Overdue") < body.index("Overdue since yesterday")
    assert body.index("Overdue since yesterday") < body.index("Due before the digest went")
    assert body.index("Due before the digest went") < body.index("Due today")
    assert body.index("Due today") < body.index("Due at half past eleven")
    assert body.index("Due at half past eleven") < body.index("Due just before midnight")
    assert "Oct 5, 2026 16:00  Acme GmbH: Overdue since yesterday" in body
    assert "11:30  Globex AG: Due at half past eleven" in body
    assert "23:59  Acme GmbH: Due just before midnight" in body
    for absent in ("Due at midnight tomorrow", "Already done", "Someone else's"):
        assert absent not in body
    assert f"https://crm.example.org/clients/{acme.pk}/" in body
    assert f"https://crm.example.org/clients/{globex.pk}/" in body
    assert "All your tasks: https://crm.example.org/tasks/" in body
    assert "Times are in Europe/Berlin." in body
    assert TaskDigest.objects.get(user=user).tasks == 4


def test_one_task_is_singular():
    task(assignee(), berlin(10))

    digests_send(now=berlin(7, 5))

    [message] = mail.outbox
    assert message.subject == "1 task for Oct 6, 2026"
    assert "You have 1 open task due today or overdue." in message.body


def test_the_html_alternative_links_and_escapes():
    user = assignee()
    acme = ClientFactory(name="Acme & Sons")
    task(user, berlin(10), "Ask about <b>pricing</b>", client=acme)

    digests_send(now=berlin(7, 5))

    [message] = mail.outbox
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'<a href="https://crm.example.org/clients/{acme.pk}/">Acme &amp; Sons</a>' in html
    assert "Ask about &lt;b&gt;pricing&lt;/b&gt;" in html
    assert '<a href="https://crm.example.org/tasks/">' in html
    assert "<b>pricing</b>" in message.body  # the text part is not HTML-escaped


def test_due_times_are_in_the_users_time_zone():
    bob = assignee("bob", "America/New_York")
    task(bob, new_york(9, 30))  # 15:30 in Berlin

    digests_send(now=new_york(7, 5))

    [message] = mail.outbox
    assert "09:30  Acme GmbH: Call back" in message.body
    assert "15:30" not in message.body
    assert "Times are in America/New_York." in message.body
    assert '<time datetime="2026-10-06T09:30:00-04:00">09:30</time>' in (
        message.alternatives[0].content
    )


def test_links_use_site_url_when_the_project_has_one(settings):
    settings.SITE_URL = "https://crm.example.com/"
    client = ClientFactory()
    task(assignee(), berlin(10), client=client)

    digests_send(now=berlin(7, 5))

    assert f"https://crm.example.com/clients/{client.pk}/" in mail.outbox[0].body
    assert "https://crm.example.com/tasks/" in mail.outbox[0].body


# --- Who not ------------------------------------------------------------------------------------


def test_nothing_due_no_mail_and_no_claim_that_blocks_a_later_run():
    user = assignee()
    task(user, berlin(9, day=7), "Tomorrow's")

    assert digests_send(now=berlin(7, 5)) == 0
    assert mail.outbox == []
    assert not TaskDigest.objects.exists()

    task(user, berlin(15), "Added during the day")
    assert digests_send(now=berlin(8, 5)) == 1
    assert "Added during the day" in mail.outbox[0].body
    assert "Tomorrow's" not in mail.outbox[0].body


def test_inactive_users_and_users_without_an_address_get_nothing():
    task(assignee("gone", is_active=False), berlin(10))
    task(assignee("silent", email=""), berlin(10))

    assert digests_send(now=berlin(7, 5)) == 0
    assert mail.outbox == []
    assert not TaskDigest.objects.exists()


# --- Failures and races -------------------------------------------------------------------------


def test_a_failing_smtp_server_leaves_no_claim_and_the_next_run_sends(
    smtp_down, monkeypatch, caplog
):
    user = assignee()
    task(user, berlin(10))

    with caplog.at_level(logging.ERROR, logger="timeline.digest"):
        assert digests_send(now=berlin(7, 5)) == 0

    assert not TaskDigest.objects.exists()
    [record] = caplog.records
    assert record.getMessage() == f"task digest for user {user.pk} on 2026-10-06 not sent"
    assert "SMTPServerDisconnected" in record.exc_text

    monkeypatch.undo()  # the mail server is back
    assert digests_send(now=berlin(8, 5)) == 1
    assert len(mail.outbox) == 1
    assert TaskDigest.objects.get().sent_at is not None


def test_one_failure_does_not_stop_the_others(monkeypatch):
    original = EmailBackend.send_messages

    def refuse_anna(self, messages):
        if messages[0].to == ["anna@mail.test"]:
            raise SMTPServerDisconnected("gone")
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_anna)
    task(assignee("anna"), berlin(10))
    task(assignee("bob"), berlin(10))

    assert digests_send(now=berlin(7, 5)) == 1

    assert [m.to for m in mail.outbox] == [["bob@mail.test"]]
    assert list(TaskDigest.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_digest_claimed_by_another_run_is_not_sent():
    user = assignee()
    task(user, berlin(10))
    TaskDigest.objects.create(user=user, day=DAY, tasks=1)  # being sent elsewhere

    assert digests_send(now=berlin(7, 5)) == 0
    assert mail.outbox == []


def test_a_claim_left_unsent_past_its_lease_is_taken_over_once():
    """A worker killed between its claim and its mail left the row unsent: the next hourly run
    sends the digest, and the run after it does not send it again."""
    user = assignee()
    task(user, berlin(10))
    TaskDigest.objects.create(user=user, day=DAY, tasks=1, claimed_at=berlin(7, 5))

    assert digests_send(now=berlin(7, 10)) == 0  # within the lease: maybe still sending
    assert digests_send(now=berlin(8, 5)) == 1
    assert digests_send(now=berlin(9, 5)) == 0

    assert len(mail.outbox) == 1
    claim = TaskDigest.objects.get()
    assert claim.sent_at is not None
    assert claim.claimed_at == berlin(8, 5)


def test_a_claim_lost_to_a_concurrent_run_sends_nothing(monkeypatch):
    """The other run claims between this one's read and its claim: the unique pair refuses
    this one's INSERT, and the other's row is left alone."""
    user = assignee()
    task(user, berlin(10))
    read = digest._candidates

    def then_claimed_elsewhere(now):
        users = list(read(now))
        TaskDigest.objects.create(user=user, day=DAY, tasks=1)
        return users

    monkeypatch.setattr(digest, "_candidates", then_claimed_elsewhere)

    assert digests_send(now=berlin(7, 5)) == 0

    assert mail.outbox == []
    claim = TaskDigest.objects.get()
    assert (claim.tasks, claim.sent_at) == (1, None)


# --- Queries ------------------------------------------------------------------------------------


def count_queries(now) -> int:
    with CaptureQueriesContext(connection) as queries:
        digests_send(now=now)
    return len(queries)


def test_queries_do_not_grow_with_the_tasks():
    """One for the candidates, then per user sent to: their tasks, the claim (in a savepoint:
    the test runs in a transaction, a task in autocommit needs none) and sent_at."""
    per_sent = 5 if connection.in_atomic_block else 3
    for name, tasks in (("anna", 1), ("bob", 6), ("carl", 12)):
        user = assignee(name)
        for hour in range(tasks):
            task(user, berlin(hour, day=5), client=ClientFactory())

    assert count_queries(berlin(7, 5)) == 1 + 3 * per_sent
    assert len(mail.outbox) == 3
    # Sent already: the candidates' query says so, nothing else is read.
    assert count_queries(berlin(8, 5)) == 1
    # Before the hour: nor then.
    assert count_queries(berlin(6, 5, day=7)) == 1


def test_a_user_with_nothing_due_today_costs_one_query():
    task(assignee(), berlin(12, day=7))  # within a day, but tomorrow

    assert count_queries(berlin(13, 5)) == 2


# --- The beat task ------------------------------------------------------------------------------


def test_the_beat_schedule_runs_the_registered_task_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["task-digests"]

    assert entry["task"] == "timeline.send_digests"
    assert entry["schedule"] == crontab(minute=5)
    task_ = app.tasks["timeline.send_digests"]
    assert task_.name == send_digests.name
    assert (task_.acks_late, task_.reject_on_worker_lost) == (True, True)


def test_the_task_sends_the_digests_due_now(settings):
    settings.TASK_DIGEST_HOUR = 0  # whatever the hour the test runs at
    task(assignee(), timezone.now() - timedelta(hours=1))

    result = send_digests.apply()

    assert result.get() == {"sent": 1}
    assert len(mail.outbox) == 1
    assert send_digests.apply().get() == {"sent": 0}


# --- A real SMTP server -------------------------------------------------------------------------


def test_two_hourly_runs_deliver_one_message_to_a_real_smtp_server(settings):
    bob = assignee("bob", "America/New_York", first_name="Bob")
    task(bob, new_york(9, 30), "Call about the renewal")
    task(bob, new_york(16, day=5), "Send the contract")

    with smtp_server() as (port, inbox):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        sent = [digests_send(now=new_york(7, 5)), digests_send(now=new_york(8, 5))]

    assert sent == [1, 0]
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["bob@mail.test"]
    assert envelope.mail_from == "crm@mail.test"
    [message] = inbox.messages
    assert message["Subject"] == "2 tasks for Oct 6, 2026"
    assert message["To"] == "bob@mail.test"
    assert message.get_content_type() == "multipart/alternative"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    assert "Hello Bob," in text
    assert text.index("Send the contract") < text.index("Call about the renewal")
    assert "09:30  Acme GmbH: Call about the renewal" in text
    assert "https://crm.example.org/tasks/" in html
    assert TaskDigest.objects.get(user=bob).sent_at is not None


# --- Each recipient's language ------------------------------------------------------------------


def test_each_recipient_in_their_own_language_and_time_zone_in_one_run(settings):
    settings.LANGUAGE_CODE = "en"
    olga = assignee("olga", "Europe/Moscow", first_name="Ольга")  # UTC+3
    Profile.objects.filter(user=olga).update(language="ru")
    anna = assignee("anna", "Europe/Berlin", first_name="Anna")
    for user in (olga, anna):
        task(user, berlin(16, day=5), "Overdue since yesterday")
        task(user, berlin(11, 30), "Due at half past eleven")
        task(user, berlin(12), "Due at noon")
        task(user, berlin(13), "Due at one")
        task(user, berlin(14), "Due at two")

    assert digests_send(now=berlin(7, 5)) == 2

    by_address = {message.to[0]: message for message in mail.outbox}
    russian = by_address["olga@mail.test"]
    assert russian.subject == "5 задач на 6 окт. 2026 г."
    assert "Здравствуйте, Ольга!" in russian.body
    assert "У вас 5 открытых задач" in russian.body
    assert "Просрочено" in russian.body
    assert "Срок сегодня" in russian.body
    # Moscow's clock and the Russian DATETIME_FORMAT: 16:00 in Berlin is 17:00 in Moscow.
    assert "5 окт. 2026 г., 17:00  Acme GmbH: Overdue since yesterday" in russian.body
    assert "12:30  Acme GmbH: Due at half past eleven" in russian.body
    assert "Время указано в часовом поясе Europe/Moscow." in russian.body
    html = russian.alternatives[0].content
    assert '<html lang="ru">' in html
    assert "Ваши задачи" in html

    english = by_address["anna@mail.test"]
    assert english.subject == "5 tasks for Oct 6, 2026"
    assert "Hello Anna," in english.body
    assert "Oct 5, 2026 16:00  Acme GmbH: Overdue since yesterday" in english.body
    assert "Times are in Europe/Berlin." in english.body
    assert '<html lang="en">' in english.alternatives[0].content


def test_a_russian_single_task_and_a_few_use_their_plural_forms():
    olga = assignee("olga", "Europe/Berlin")
    Profile.objects.filter(user=olga).update(language="ru")
    task(olga, berlin(10))

    digests_send(now=berlin(7, 5))

    [message] = mail.outbox
    assert message.subject == "1 задача на 6 окт. 2026 г."
    assert "У вас 1 открытая задача" in message.body


def test_without_a_profile_language_the_business_language_counts(settings):
    settings.LANGUAGE_CODE = "ru"
    task(assignee("olga", None), berlin(10))

    digests_send(now=berlin(7, 5))

    [message] = mail.outbox
    assert message.subject == "1 задача на 6 окт. 2026 г."
