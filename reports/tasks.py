import logging
from smtplib import SMTPException

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import OperationalError

from reports.services import (
    ReportNotConfigured,
    monthly_report_send,
    parse_month,
    previous_month,
    report_catch_up_months,
    report_failure_notify,
)

logger = logging.getLogger(__name__)

# Worth another try later: the mail server or the database was unreachable or refused.
TRANSIENT_ERRORS = (SMTPException, OSError, OperationalError)

# How long one attempt may run, with the numbers it must fit between (settings.py):
# - the claim's lease (REPORT_CLAIM_LEASE_MINUTES, 15 min) is renewed every third of it (5 min)
#   while the attempt runs, so a long attempt keeps its month however long it takes;
# - SOFT_TIME_LIMIT, 30 min: a month of 1,000,000 orders is ~90 MB of CSV, built and zipped in
#   a few minutes, and every SMTP socket operation times out after EMAIL_TIMEOUT (10 s); an
#   attempt still running after half an hour is stuck, not busy. It is interrupted inside the
#   task, which marks the month FAILED and mails the admins (a retry would be stuck again);
#   the daily catch-up tries again;
# - TIME_LIMIT, 35 min: the backstop when the soft limit cannot interrupt (a C call that does
#   not return): the worker kills the process, its renewals stop with it, and the month can be
#   taken over one lease (15 min) later;
# - the broker's visibility_timeout (2 h): an unacknowledged (acks_late) task is redelivered
#   after it, so every attempt ends (35 min) long before, and no retry waits longer than the
#   lease (15 min).
SOFT_TIME_LIMIT = 30 * 60
TIME_LIMIT = 35 * 60


@shared_task(
    bind=True,
    name="reports.send_monthly_report",
    # A worker killed mid-run leaves the message unacknowledged, so it is delivered again; the
    # ReportRun claim keeps the re-run from sending twice.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def send_monthly_report(self, month: str | None = None, force: bool = False) -> dict:
    """E-mail the order report for `month` ("YYYY-MM"; last month when omitted), once.

    Retries are done by hand rather than with autoretry_for so that they carry the month
    resolved on the first attempt: a retry that lands after midnight on the 1st of the next
    month must still send the month it started with. When the retries run out, or on an error
    a retry would not fix, the month stays FAILED and the admins are mailed, once; the daily
    catch-up (`catch_up`) sends it again.
    """
    month_start = parse_month(month) if month else previous_month()
    retry_kwargs = {"month": f"{month_start:%Y-%m}", "force": force}
    retries_left = self.request.retries < self.max_retries
    try:
        outcome = monthly_report_send(month=month_start, force=force)
    except ReportNotConfigured as error:
        logger.error("monthly report not sent: %s", error)
        return {"status": "not_configured", "month": retry_kwargs["month"]}
    except TRANSIENT_ERRORS as error:
        if not retries_left:
            report_failure_notify(month=month_start, error=error)
            raise
        # Exponential backoff with jitter, as retry_backoff would: 1, 2, 4 ... 10 minutes.
        countdown = get_exponential_backoff_interval(
            factor=60, retries=self.request.retries, maximum=600, full_jitter=True
        )
        raise self.retry(exc=error, countdown=countdown, kwargs=retry_kwargs) from error
    except Exception as error:
        # A bug, bad data, the soft time limit: the same again would fail the same way.
        report_failure_notify(month=month_start, error=error)
        raise
    if outcome.status == "in_progress":
        if not retries_left:
            # Another run has held the month all this time, renewing its claim: it is alive and
            # will finish it; the catch-up looks tomorrow in any case.
            logger.warning("report for %s still in progress elsewhere", retry_kwargs["month"])
            return outcome.as_dict()
        # Another run holds the month. Look again once its lease could have run out: by then
        # it is SENT (nothing to do), still renewing (look again) or dead (we take over).
        raise self.retry(countdown=settings.REPORT_CLAIM_LEASE_MINUTES * 60, kwargs=retry_kwargs)
    return outcome.as_dict()


@shared_task(name="reports.catch_up")
def catch_up() -> list[str]:
    """Queue the report of every recent month that was not sent (daily, by beat).

    A beat that was down on the 1st, a month whose retries ran out, a worker that died: the
    month stays unsent, and this sends it on the next day anything works. Each month is an
    ordinary `send_monthly_report`, with its claim, retries and alert, so it can never mail a
    month twice with the 1st's run or a retry in flight. Which months: see
    reports.services.report_catch_up_months.
    """
    months = [f"{month:%Y-%m}" for month in report_catch_up_months()]
    for month in months:
        logger.info("report catch-up: queueing %s", month)
        send_monthly_report.apply_async(kwargs={"month": month, "force": False})
    return months
