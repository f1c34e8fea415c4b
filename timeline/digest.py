"""The daily task digest: each assignee is mailed their open tasks that are overdue or due today,
once a day, once TASK_DIGEST_HOUR has come in their own time zone (core.models.user_time_zone).

`digests_send` is the one entry point (the hourly beat task timeline.send_digests calls it).
Once a day rests on TaskDigest's unique (user, day), `day` being the user's local date:

    no row ──insert (the claim)──▶ sent_at NULL ──mail accepted──▶ sent_at set
                                        │
                  sending failed: the row is deleted, the next hourly run tries again

A run that finds the row inserted by another one (the IntegrityError of the unique pair) sends
nothing. Nothing due means no mail and no row. Reads: one query for the candidate users (their
profile's time zone and their latest digest day joined in), then one per user whose hour has
come and who has no digest for their local day (their tasks, clients joined in); a user who is
sent one adds the claim's INSERT and the sent_at UPDATE.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.models import user_language, user_time_zone
from timeline.models import Task, TaskDigest

logger = logging.getLogger(__name__)

# A claim still unsent after this long belongs to a run that died (a worker killed between the
# claim and the mail): the next run takes it over. Well above one SMTP send's timeout.
DIGEST_CLAIM_LEASE = timedelta(minutes=15)


def site_url() -> str:
    """Where the mail's links point: settings.SITE_URL when it is set, else the first
    of ALLOWED_HOSTS (https unless the site runs without secure cookies, as in development)."""
    configured = settings.SITE_URL
    if configured:
        return configured.rstrip("/")
    host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".")
    if host in ("", "*"):
        host = "localhost"
    scheme = "https" if settings.SESSION_COOKIE_SECURE else "http"
    return f"{scheme}://{host}"


def _candidates(now: datetime):
    """Active users with an address and an open task due within a day of `now` (the end of
    anyone's local today is less than 24 hours away), with their profile and latest digest day.
    """
    held = Q(sent_at__isnull=False) | Q(claimed_at__gte=now - DIGEST_CLAIM_LEASE)
    latest_digest = (
        TaskDigest.objects.filter(held, user=OuterRef("pk")).order_by("-day").values("day")
    )
    due_soon = Task.objects.open().filter(
        assignee=OuterRef("pk"), due_at__lt=now + timedelta(days=1)
    )
    return (
        get_user_model()
        .objects.filter(Exists(due_soon), is_active=True)
        .exclude(email="")
        .select_related("profile")
        .annotate(latest_digest=Subquery(latest_digest[:1]))
        .order_by("pk")
    )


def _end_of_day(day, tz) -> datetime:
    """The last instant of `day` in `tz` (a day is not always 24 hours long)."""
    following = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return following - timedelta(microseconds=1)


def _claim(user, day, count: int, now: datetime) -> TaskDigest | None:
    """The user's digest for `day`, inserted by this run, or taken over from a run that died
    holding it; None when another run holds it (or sent it)."""
    try:
        with transaction.atomic():
            return TaskDigest.objects.create(user=user, day=day, tasks=count, claimed_at=now)
    except IntegrityError:
        stale = TaskDigest.objects.filter(
            user=user, day=day, sent_at__isnull=True, claimed_at__lt=now - DIGEST_CLAIM_LEASE
        )
        # One UPDATE: of two runs taking it over at once, one changes the row.
        if stale.update(claimed_at=now, tasks=count):
            return TaskDigest.objects.get(user=user, day=day)
        return None


def _message(*, user, tz, day, now, tasks: list[Task]) -> EmailMultiAlternatives:
    base = site_url()
    # Overdue as on /tasks/: due before now (earlier today included).
    overdue = [task for task in tasks if task.is_overdue(now)]
    context = {
        "user": user,
        "day": day,
        "time_zone": str(tz),
        "overdue": overdue,
        "today": [task for task in tasks if not task.is_overdue(now)],
        "count": len(tasks),
        "tasks_url": base + reverse("timeline:tasks"),  # the user's own, open ones
    }
    for task in tasks:
        task.client_url = base + reverse("clients:detail", args=[task.client_id])
    # In the user's language and zone (their profile's, else the business's): the subject, the
    # plural forms, the named date formats. Overridden per mail, as one run mails everyone. The
    # subject on one line, whatever the translation.
    with translation.override(user_language(user)), timezone.override(tz):
        subject = render_to_string("timeline/email/digest_subject.txt", context)
        text = render_to_string("timeline/email/digest.txt", context)
        html = render_to_string("timeline/email/digest.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


def digests_send(*, now: datetime | None = None) -> int:
    """Mail today's digest to every assignee whose TASK_DIGEST_HOUR has come and who has not had
    it yet; returns how many were sent. A failure to send one is logged and its claim released
    (the next run tries again); the others still go. Call it outside any transaction (the task
    does): a claim must be committed, hence seen by other runs, before its mail goes out."""
    now = now or timezone.now()
    sent = 0
    for user in _candidates(now):
        tz = user_time_zone(user)
        local = now.astimezone(tz)
        day = local.date()
        if local.hour < settings.TASK_DIGEST_HOUR:
            continue
        if user.latest_digest is not None and user.latest_digest >= day:
            continue
        tasks = list(
            Task.objects.filter(assignee=user)
            .due_by(_end_of_day(day, tz))
            .select_related("client")
            .order_by("due_at", "id")
        )
        if not tasks:
            continue  # due tomorrow (by their clock): no mail, and no row to block a later run
        digest = _claim(user, day, len(tasks), now)
        if digest is None:
            logger.info("task digest for user %s on %s: sent by another run", user.pk, day)
            continue
        try:
            _message(user=user, tz=tz, day=day, now=now, tasks=tasks).send(using="default")
        except Exception:
            # Released, so that the next hourly run sends it.
            logger.exception("task digest for user %s on %s not sent", user.pk, day)
            TaskDigest.objects.filter(pk=digest.pk).delete()
            continue
        TaskDigest.objects.filter(pk=digest.pk).update(sent_at=timezone.now())
        sent += 1
        logger.info("task digest for user %s on %s sent: %s tasks", user.pk, day, len(tasks))
    return sent
