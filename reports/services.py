"""The monthly order report: build the CSV (streaming) and e-mail it, once per month.

`monthly_report_send` is the one entry point (the Celery task and the management command both
call it). Exactly once rests on `ReportRun`, one row per month, claimed atomically:

    no row ──insert──▶ PENDING ──mail accepted──▶ SENT ──(--force)──▶ PENDING ...
                          │  ▲
        error while building │  │ reclaimed: a FAILED run, or a PENDING one older than the
        or sending (SMTP)    ▼  │ lease (the worker was killed before it finished)
                          FAILED

A second caller that finds the month SENT does nothing; one that finds it PENDING within the
lease reports "in progress" (the task retries later, when the run is either SENT or stale).

A live run keeps its lease: a thread renews `claimed_at` every third of the lease while the CSV
is built and mailed (`_ClaimRenewal`), so a big month or a slow mail server is never taken over
and mailed a second time; only a run that stopped renewing (its process died, or the task's
hard time limit killed it) goes stale. A run that finds its claim taken anyway does not send,
and never marks another run's month. The one window left for a duplicate is a crash between the
SMTP server accepting the mail and the SENT update a few milliseconds later.

Nothing here retries forever: the task retries transient errors, then mails the admins
(`report_failure_notify`); `report_catch_up_months` names the recent months the daily catch-up
sends again (a beat that was down on the 1st, a month whose retries ran out).
"""

import itertools
import logging
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import F, Q
from django.utils import dateformat, timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from clients.models import Order
from core.csv import CsvRowWriter
from reports.models import ReportRun

logger = logging.getLogger(__name__)

# The CSV's column names, in the report's language (report_language()). They read exactly as
# they always have in English, the msgids, so nothing changes for an English business (nor for
# a program reading its columns); a Russian business gets Russian names, as it gets a Russian
# mail. The values under them stay machine-readable in every language (see row() below).
CSV_HEADER = [
    pgettext_lazy("report CSV column", "order_id"),
    pgettext_lazy("report CSV column", "created_at"),
    pgettext_lazy("report CSV column", "client_name"),
    pgettext_lazy("report CSV column", "client_email"),
    pgettext_lazy("report CSV column", "title"),
    pgettext_lazy("report CSV column", "status"),
    pgettext_lazy("report CSV column", "amount"),
]
# Rows fetched per round trip: a server-side cursor on PostgreSQL, so memory stays flat.
CHUNK_SIZE = 5000
ZERO = Decimal("0.00")


class ReportNotConfigured(ImproperlyConfigured):
    """Nobody to send the report to: neither REPORT_RECIPIENTS nor DJANGO_MANAGERS is set."""


# --- Months -----------------------------------------------------------------------------------


def report_language():
    """The report's language while a block runs: the business's, LANGUAGE_CODE. The report and
    its failure alert go to addresses (REPORT_RECIPIENTS, MANAGERS, ADMINS), not to users with
    a profile, and a worker or a cron job has no request to take a language from."""
    return translation.override(settings.LANGUAGE_CODE)


def previous_month(*, today: date | None = None) -> date:
    """The first day of the calendar month before `today` (local date in TIME_ZONE)."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def parse_month(text: str) -> date:
    """'2026-10' → date(2026, 10, 1); ValueError for anything else."""
    try:
        parsed = datetime.strptime(text.strip(), "%Y-%m")
    except ValueError:
        raise ValueError(
            _("%(text)r is not a month like 2026-10 (YYYY-MM).") % {"text": text}
        ) from None
    return parsed.date()


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of `month` as aware datetimes at local midnight in TIME_ZONE."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = datetime(following.year, following.month, 1, tzinfo=tz)
    return start, end


def month_is_over(month: date) -> bool:
    return month_bounds(month)[1] <= timezone.now()


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (before it when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


# --- Building the CSV -------------------------------------------------------------------------


@dataclass
class ReportSummary:
    month: date
    row_count: int = 0
    # status value → [order count, amount]; every status present, zero when it has no orders.
    by_status: dict[str, list] = field(
        default_factory=lambda: {status: [0, ZERO] for status in Order.Status.values}
    )

    @property
    def total_amount(self) -> Decimal:
        return sum((amount for _, amount in self.by_status.values()), ZERO)


def monthly_report_orders(*, month: date):
    """The month's orders as plain tuples in CSV column order, oldest first, streamed."""
    start, end = month_bounds(month)
    return (
        Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by("created_at", "id")
        .values_list(
            "id", "created_at", "client__name", "client__email", "title", "status", "amount"
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def monthly_report_write_csv(*, month: date, out) -> ReportSummary:
    """Write the month's CSV to the text file `out`: one row per order, then the totals.

    Rows go from the database cursor to the file a chunk at a time, and the totals are summed
    on the way, so memory does not grow with the number of orders. Escaped like the client
    export (core/csv.py), but with no BOM: see README "Monthly report".
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    summary = ReportSummary(month=month)

    # Values stay machine-readable whatever the language: ISO 8601 times, status codes ("NEW",
    # "DONE"), amounts as plain decimals with a dot and no grouping. A spreadsheet or a program
    # reads them the same in every locale; "20 730,00" would be text to most of them.
    def row(order: tuple) -> tuple:
        order_id, created_at, name, email, title, status, amount = order
        totals = summary.by_status[status]
        totals[0] += 1
        totals[1] += amount
        summary.row_count += 1
        when = created_at.astimezone(tz).isoformat(timespec="seconds")
        return order_id, when, name, email, title, status, amount

    writer = CsvRowWriter()
    with report_language():
        header = [str(name) for name in CSV_HEADER]
        totals_header = (
            pgettext("report CSV column", "status"),
            pgettext("report CSV column", "orders"),
            pgettext("report CSV column", "amount"),
        )
        total_label = pgettext("report CSV totals row", "TOTAL")
    out.write(writer.row(header))
    for chunk in itertools.batched(monthly_report_orders(month=month), CHUNK_SIZE):
        out.write(writer.rows(map(row, chunk)))
    totals = [(status, count, amount) for status, (count, amount) in summary.by_status.items()]
    out.write(writer.rows([(), totals_header, *totals]))
    out.write(writer.row((total_label, summary.row_count, summary.total_amount)))
    return summary


# --- Sending ----------------------------------------------------------------------------------


def report_recipients() -> list[str]:
    """REPORT_RECIPIENTS, or the DJANGO_MANAGERS addresses when it is empty."""
    recipients = list(settings.REPORT_RECIPIENTS) or [address for _, address in settings.MANAGERS]
    if not recipients:
        raise ReportNotConfigured(
            _(
                "No recipients for the monthly report: set REPORT_RECIPIENTS (comma-separated "
                "addresses) or DJANGO_MANAGERS."
            )
        )
    return recipients


# The month a report is for, as the mail's sentences use it ("the report for December 2026"):
# not Django's month names ("F"), which are capitalised in Russian ("Декабрь"), where the
# sentence wants "за декабрь 2026". A context of their own, apart from the calendar's names.
REPORT_MONTHS = {
    1: pgettext_lazy("the month a report is for", "January"),
    2: pgettext_lazy("the month a report is for", "February"),
    3: pgettext_lazy("the month a report is for", "March"),
    4: pgettext_lazy("the month a report is for", "April"),
    5: pgettext_lazy("the month a report is for", "May"),
    6: pgettext_lazy("the month a report is for", "June"),
    7: pgettext_lazy("the month a report is for", "July"),
    8: pgettext_lazy("the month a report is for", "August"),
    9: pgettext_lazy("the month a report is for", "September"),
    10: pgettext_lazy("the month a report is for", "October"),
    11: pgettext_lazy("the month a report is for", "November"),
    12: pgettext_lazy("the month a report is for", "December"),
}


def _month_name(month: date) -> str:
    """ "October 2026", "октябрь 2026": in the active language, not the C locale's."""
    return f"{REPORT_MONTHS[month.month]} {month.year}"


def _amount(amount: Decimal) -> str:
    """An amount for people to read, in the active language: "20,730.00", "20 730,00"."""
    return number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)


def _summary_text(summary: ReportSummary) -> str:
    labels = dict(Order.Status.choices)
    lines = [
        _("Orders report for %(month)s (%(time_zone)s).")
        % {"month": _month_name(summary.month), "time_zone": settings.TIME_ZONE},
        "",
        _("Orders: %(count)s") % {"count": summary.row_count},
    ]
    if not summary.row_count:
        lines.append(_("There were no orders this month."))
    for status, (count, amount) in summary.by_status.items():
        # The English singular is "1 orders" as the report has always read; other languages
        # get their plural forms.
        line = ngettext(
            "%(status)s: %(count)s orders, %(amount)s",
            "%(status)s: %(count)s orders, %(amount)s",
            count,
        )
        lines.append(line % {"status": labels[status], "count": count, "amount": _amount(amount)})
    lines += [
        _("Total: %(amount)s") % {"amount": _amount(summary.total_amount)},
        "",
        _("The orders are in the attached CSV."),
    ]
    return "\n".join(lines)


def _build_message(*, summary: ReportSummary, csv_path: Path, recipients: list[str]):
    with report_language():
        subject = _("Orders report %(month)s") % {"month": _month_name(summary.month)}
        body = _summary_text(summary)
    message = EmailMessage(subject=subject, body=body, to=recipients)
    # The attachment is held in memory while the message is sent: zip a large CSV (about a
    # tenth of the size) so a big month stays within what mail servers accept.
    if csv_path.stat().st_size > settings.REPORT_ZIP_ABOVE_BYTES:
        zip_path = csv_path.with_suffix(".zip")
        with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(csv_path, arcname=csv_path.name)
        message.attach(zip_path.name, zip_path.read_bytes(), "application/zip")
    else:
        message.attach(csv_path.name, csv_path.read_text(encoding="utf-8"), "text/csv")
    return message


@dataclass
class SendOutcome:
    status: str  # "sent", "already_sent" or "in_progress"
    month: date
    row_count: int | None = None
    total_amount: Decimal | None = None

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "month": f"{self.month:%Y-%m}",
            "row_count": self.row_count,
            "total_amount": None if self.total_amount is None else str(self.total_amount),
        }


def claim_lease() -> timedelta:
    """How long a claim holds without renewal: after it, a PENDING run counts as dead."""
    return timedelta(minutes=settings.REPORT_CLAIM_LEASE_MINUTES)


class ClaimLost(Exception):
    """This run's claim was taken over (it stopped renewing for longer than the lease)."""


def _renew_claim(*, month: date, token: uuid.UUID) -> bool:
    """Push this run's lease forward; False when the claim is no longer ours."""
    return bool(
        ReportRun.objects.filter(
            month=month, claim_token=token, status=ReportRun.Status.PENDING
        ).update(claimed_at=timezone.now())
    )


class _ClaimRenewal:
    """Renews a run's claim every third of the lease while the run works, on its own thread.

    Without it a run longer than the lease (a big month, a slow SMTP server) looked dead, and
    the task's next attempt, beat's next firing or the catch-up took the month over and mailed
    it a second time. A third of the lease lets two renewals in a row fail (the database
    restarting, say) before anyone may take over. The thread dies with its process, so a
    killed worker still goes stale after one lease. It touches only the row holding this
    run's token, on its own database connection (closed when it stops).
    """

    def __init__(self, *, month: date, token: uuid.UUID):
        self.month = month
        self.token = token
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"report-claim-{month:%Y-%m}", daemon=True
        )

    def __enter__(self) -> "_ClaimRenewal":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        # A renewal in flight is one single-row UPDATE; don't wait on a hung database forever.
        self._thread.join(timeout=30)

    def _run(self) -> None:
        period = claim_lease().total_seconds() / 3
        try:
            while not self._stop.wait(period):
                try:
                    renewed = _renew_claim(month=self.month, token=self.token)
                except DatabaseError:
                    logger.warning(
                        "report for %s: could not renew the claim", f"{self.month:%Y-%m}",
                        exc_info=True,
                    )  # fmt: skip
                    continue
                if not renewed:
                    # Taken over: the send checks once more before mailing and backs off.
                    logger.warning("report for %s: the claim was taken over", f"{self.month:%Y-%m}")
                    return
        finally:
            connections.close_all()  # this thread's connections only


def _claim(*, month: date, force: bool) -> tuple[uuid.UUID | None, ReportRun | None]:
    """Take the month's run for this caller: (token, None), or (None, the run held elsewhere).

    Both steps are single statements, atomic on their own: the unique INSERT (a racer blocks on
    the unique index until the winner commits, then fails) and a conditional UPDATE (of two
    racers, the second re-checks the WHERE after the first commits and matches nothing).
    """
    now = timezone.now()
    token = uuid.uuid4()
    try:
        with transaction.atomic():
            ReportRun.objects.create(
                month=month, status=ReportRun.Status.PENDING, claim_token=token, claimed_at=now
            )
        return token, None
    except IntegrityError:
        pass
    claimable = Q(status=ReportRun.Status.FAILED) | Q(
        status=ReportRun.Status.PENDING, claimed_at__lt=now - claim_lease()
    )
    if force:
        claimable |= Q(status=ReportRun.Status.SENT)
    taken = ReportRun.objects.filter(claimable, month=month).update(
        status=ReportRun.Status.PENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
        last_error="",
    )
    if taken:
        return token, None
    return None, ReportRun.objects.get(month=month)


def monthly_report_send(*, month: date, force: bool = False) -> SendOutcome:
    """E-mail `month`'s order report unless it was already sent (`force` sends it again).

    Raises ReportNotConfigured without recipients, and re-raises a failure to build or send
    (an SMTP error, say) after marking the run FAILED, so that a retry can send it.
    Call it outside any transaction (the task and the command do): the claim must be committed,
    hence visible to other workers, before the mail goes out.
    """
    recipients = report_recipients()
    token, held = _claim(month=month, force=force)
    if token is None:
        if held.status == ReportRun.Status.SENT:
            logger.info("report for %s was already sent at %s", f"{month:%Y-%m}", held.sent_at)
            return SendOutcome("already_sent", month, held.row_count, held.total_amount)
        logger.info("report for %s is being sent by another run", f"{month:%Y-%m}")
        return SendOutcome("in_progress", month)

    mine = ReportRun.objects.filter(month=month, claim_token=token)
    try:
        with (
            _ClaimRenewal(month=month, token=token),
            tempfile.TemporaryDirectory(prefix="mini-crm-report-") as folder,
        ):
            csv_path = Path(folder) / f"orders-{month:%Y-%m}.csv"
            with csv_path.open("w", newline="", encoding="utf-8") as out:
                summary = monthly_report_write_csv(month=month, out=out)
            message = _build_message(summary=summary, csv_path=csv_path, recipients=recipients)
            # The last moment to back off: once the mail server has the message it cannot be
            # taken back. Renewing here also gives the send a whole lease of its own.
            if not _renew_claim(month=month, token=token):
                raise ClaimLost
            message.send(using="default")
    except ClaimLost:
        # Whoever took the month over sends it (or has): nothing of ours to record.
        logger.warning("report for %s: claim taken over before sending; not sent", f"{month:%Y-%m}")
        return SendOutcome("in_progress", month)
    except BaseException as error:
        # Release the claim so the retry (or the next manual run) may send it; never SENT.
        mine.update(status=ReportRun.Status.FAILED, claim_token=None, last_error=repr(error))
        logger.exception("report for %s failed", f"{month:%Y-%m}")
        raise

    marked = mine.update(
        status=ReportRun.Status.SENT,
        claim_token=None,
        sent_at=timezone.now(),
        row_count=summary.row_count,
        total_amount=summary.total_amount,
        recipients=", ".join(recipients),
    )
    if not marked:
        # Another run took the month over while we sent (we could not renew for a whole lease):
        # its row is left as it is, and it may send a second copy.
        logger.warning("report for %s: claim taken over while sending", f"{month:%Y-%m}")
    logger.info(
        "report for %s sent to %s: %s orders, total %s",
        f"{month:%Y-%m}",
        ", ".join(recipients),
        summary.row_count,
        summary.total_amount,
    )
    return SendOutcome("sent", month, summary.row_count, summary.total_amount)


# --- When a month is not sent: the catch-up and the alert --------------------------------------


def _reports_installed_at() -> datetime | None:
    """When this database got the reports app (its first migration was applied)."""
    return (
        MigrationRecorder.Migration.objects.filter(app="reports", name="0001_initial")
        .values_list("applied", flat=True)
        .first()
    )


def _regular_run_at(month: date) -> datetime:
    """When REPORT_CRONTAB first fires after `month` is over: the regular run for it."""
    schedule = crontab.from_string(settings.REPORT_CRONTAB)
    # Celery's next firing strictly after the given time: start a second before the end, so that
    # a crontab firing at midnight on the 1st counts that midnight.
    last, delta, _now = schedule.remaining_delta(
        month_bounds(month)[1] - timedelta(seconds=1), tz=ZoneInfo(settings.TIME_ZONE)
    )
    return last + delta


def report_catch_up_months(*, now: datetime | None = None) -> list[date]:
    """The recent months whose report should be sent now, oldest first.

    Candidates: the last REPORT_CATCHUP_MONTHS full months (in TIME_ZONE) not SENT. Of those, a
    month with no ReportRun at all (no run ever started: beat was down on the 1st) is taken
    only if
    - its regular run's time has come (REPORT_CRONTAB, 07:00 on the 1st by default): the
      catch-up does not race ahead of the 1st's run, which sends it (the claim would keep the
      two from both mailing it anyway; this keeps the 1st's run the one that does);
    - it ended after the reports app was installed (its first migration was applied): a fresh
      install does not mail the reports of months before it existed. Not "before the first
      order": imports may date orders years back, and a month with no orders still gets its
      "no orders" report (README "Monthly report").
    A FAILED month, or a PENDING one (taken over only if its lease ran out), is always taken:
    the claim decides.
    """
    now = now or timezone.now()
    latest = previous_month(today=timezone.localtime(now).date())
    months = [add_months(latest, -back) for back in range(settings.REPORT_CATCHUP_MONTHS)]
    runs = dict(ReportRun.objects.filter(month__in=months).values_list("month", "status"))
    installed_at = _reports_installed_at()
    due = []
    for month in months:
        status = runs.get(month)
        if status == ReportRun.Status.SENT:
            continue
        if status is None:
            if _regular_run_at(month) > now:
                continue
            if installed_at is not None and month_bounds(month)[1] <= installed_at:
                continue
        due.append(month)
    return sorted(due)


def report_alert_recipients() -> list[str]:
    """ADMINS (DJANGO_ADMINS), or the DJANGO_MANAGERS addresses when no admin is set."""
    admins = list(settings.ADMINS)
    if admins:
        return admins
    return [address for _, address in settings.MANAGERS]


def report_failure_notify(*, month: date, error: BaseException) -> bool:
    """Tell the admins that `month`'s report failed for good; True if the alert went out.

    Sent once per final failure (the task calls it when its retries are exhausted, or at once
    for an error a retry would not fix). The cause is often the mail server itself, so the
    alert may fail too: it is logged at ERROR either way, and its own failure never hides the
    report's.
    """
    label = f"{month:%Y-%m}"
    run = ReportRun.objects.filter(month=month).first()
    attempts = run.attempts if run else 0
    logger.error("report for %s failed for good after %s attempts: %r", label, attempts, error)
    recipients = report_alert_recipients()
    if not recipients:
        logger.error("report for %s: no ADMINS or MANAGERS to alert", label)
        return False
    with report_language():
        subject, body = _failure_text(month=month, label=label, attempts=attempts, error=error)
    try:
        EmailMessage(
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body=body,
            from_email=settings.SERVER_EMAIL,
            to=recipients,
        ).send(using="default")
    except Exception:
        logger.exception("report for %s: the alert to %s failed too", label, recipients)
        return False
    return True


def _failure_text(*, month: date, label: str, attempts: int, error: BaseException):
    """The alert's subject and body, in the active language."""
    window = settings.REPORT_CATCHUP_MONTHS
    if window > 0:
        last_day = add_months(month, window + 1) - timedelta(days=1)
        retry_text = _(
            "The daily catch-up tries again every day until %(last_day)s (the last "
            "%(window)s months are caught up: REPORT_CATCHUP_MONTHS). After that, or to send "
            "it now:"
        ) % {"last_day": dateformat.format(last_day, "d E Y"), "window": window}
    else:
        retry_text = _(
            "The daily catch-up is off (REPORT_CATCHUP_MONTHS=0): nothing will try again. "
            "To send it:"
        )
    body = "\n".join(
        [
            _("The orders report for %(month)s could not be sent.") % {"month": label},
            "",
            _("Attempts: %(attempts)s") % {"attempts": attempts},
            _("Last error: %(error)r") % {"error": error},
            "",
            retry_text,
            "",
            f"    python manage.py send_monthly_report --month {label}",
        ]
    )
    subject = _("Orders report for %(month)s not sent") % {"month": label}
    return subject, body
