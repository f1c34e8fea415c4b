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
)

logger = logging.getLogger(__name__)

# Worth another try later: the mail server or the database was unreachable or refused.
TRANSIENT_ERRORS = (SMTPException, OSError, OperationalError)


@shared_task(
    bind=True,
    name="reports.send_monthly_report",
    # A worker killed mid-run leaves the message unacknowledged, so it is delivered again; the
    # ReportRun claim keeps the re-run from sending twice.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
)
def send_monthly_report(self, month: str | None = None, force: bool = False) -> dict:
    """E-mail the order report for `month` ("YYYY-MM"; last month when omitted), once.

    Retries are done by hand rather than with autoretry_for so that they carry the month
    resolved on the first attempt: a retry that lands after midnight on the 1st of the next
    month must still send the month it started with.
    """
    month_start = parse_month(month) if month else previous_month()
    retry_kwargs = {"month": f"{month_start:%Y-%m}", "force": force}
    try:
        outcome = monthly_report_send(month=month_start, force=force)
    except ReportNotConfigured as error:
        logger.error("monthly report not sent: %s", error)
        return {"status": "not_configured", "month": retry_kwargs["month"]}
    except TRANSIENT_ERRORS as error:
        # Exponential backoff with jitter, as retry_backoff would: 1, 2, 4 ... 10 minutes.
        countdown = get_exponential_backoff_interval(
            factor=60, retries=self.request.retries, maximum=600, full_jitter=True
        )
        raise self.retry(exc=error, countdown=countdown, kwargs=retry_kwargs) from error
    if outcome.status == "in_progress":
        # Another run holds the month. Look again once its lease could have run out: by then
        # it is SENT (nothing to do) or it died (we take over).
        raise self.retry(countdown=settings.REPORT_CLAIM_LEASE_MINUTES * 60, kwargs=retry_kwargs)
    return outcome.as_dict()
